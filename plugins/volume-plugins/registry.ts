// The Docker volume plugins Berth has found, by name: looked up on first use of a driver name
// (as dockerd looks up a legacy plugin), activated once, then kept as that name's driver.
import type { Logger } from 'pino';
import { systemError } from '../../core/plugin-api.js';
import { DockerPlugin, PLUGIN_NAME, PluginNotFoundError } from '../../lib/docker-plugin/index.js';
import { VOLUME_DRIVER_IMPLEMENTS, VolumePluginDriver } from './adapter.js';

export class VolumePlugins {
  private readonly found = new Map<string, Promise<VolumePluginDriver>>();
  private readonly active = new Set<string>();

  constructor(
    private readonly dirs: () => readonly string[],
    private readonly log: Logger,
  ) {}

  /**
   * The driver of plugin `name`; undefined when no plugin of that name is installed (the volumes
   * service then answers dockerd's 404). A plugin that is installed but does not activate, or
   * is not a volume driver, is an error naming it.
   */
  async resolve(name: string): Promise<VolumePluginDriver | undefined> {
    if (!PLUGIN_NAME.test(name)) return undefined;
    let pending = this.found.get(name);
    if (!pending) {
      pending = this.activate(name);
      this.found.set(name, pending);
      // Not found or not answering is not remembered: the plugin may be started later.
      pending.catch(() => this.found.delete(name));
    }
    try {
      return await pending;
    } catch (err) {
      if (err instanceof PluginNotFoundError) return undefined;
      throw err;
    }
  }

  private async activate(name: string): Promise<VolumePluginDriver> {
    const plugin = new DockerPlugin(name, VOLUME_DRIVER_IMPLEMENTS, this.dirs);
    try {
      await plugin.activate();
    } catch (err) {
      if (err instanceof PluginNotFoundError) throw err;
      throw systemError(`error looking up volume plugin ${name}: ${(err as Error).message}`, err);
    }
    this.active.add(name);
    this.log.info({ driver: name }, 'volume plugin activated');
    return new VolumePluginDriver(plugin, this.log);
  }

  /** Names of the volume plugins activated so far (docker info's Plugins.Volume, as dockerd). */
  names(): string[] {
    return [...this.active].sort();
  }

  /** Forgets every plugin (the folders changed, or the daemon stops); they are found again on use. */
  async reset(): Promise<void> {
    const all = [...this.found.values()];
    this.found.clear();
    this.active.clear();
    await Promise.all(all.map((p) => p.then((d) => d.cleanup(), () => undefined)));
  }
}
