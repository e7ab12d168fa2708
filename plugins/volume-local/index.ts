// The local volume-driver plugin: registers dockerd's `local` driver with the volumes service.
import { definePlugin } from '../../core/plugin-api.js';
import type { VolumeDriverRegistration } from '../volume/index.js';
import { LocalDriver } from './local-driver.js';

export default definePlugin({
  init(ctx) {
    ctx.drivers.register<VolumeDriverRegistration>('volume', {
      name: 'local',
      api: '1.0.0',
      open: async ({ root, log }) => {
        const d = new LocalDriver(root, log, ctx.fs);
        await d.load();
        return d;
      },
    });
  },
});
