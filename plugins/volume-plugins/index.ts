// Docker's out-of-process volume plugins as volume drivers: a driver name no built-in driver
// answers to is looked up as NAME.sock / NAME.spec / NAME.json in the plugin folders.
import { definePlugin } from '../../core/plugin-api.js';
import type { VolumesService } from '../volume/index.js';
import { VolumePlugins } from './registry.js';

export default definePlugin({
  init(ctx) {
    let dirs = (ctx.config as { 'volume-plugin-dirs': string[] })['volume-plugin-dirs'];
    const volumes = ctx.services.get<VolumesService>('volumes');
    const plugins = new VolumePlugins(() => dirs, ctx.log);

    volumes.hooks.resolveDriver.tapPromise('volume-plugins', (name) => plugins.resolve(name));
    volumes.hooks.driverNames.tap('volume-plugins', (names) => [...names, ...plugins.names().filter((n) => !names.includes(n))]);

    ctx.hooks.reload.tap('volume-plugins', ({ changed }) => {
      if (!Array.isArray(changed['volume-plugin-dirs'])) return;
      dirs = changed['volume-plugin-dirs'] as string[];
      // A name may now be another plugin: find each again on next use.
      void plugins.reset();
    });
    ctx.hooks.shutdown.tapPromise('volume-plugins', () => plugins.reset());
  },
});
