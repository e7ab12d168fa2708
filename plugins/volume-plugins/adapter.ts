// A Docker volume plugin as a VolumeDriver: each operation is one POST /VolumeDriver.<Op> with
// dockerd's request and answer shapes (moby's volume/drivers proxy) and its timeouts.
import type { Logger } from 'pino';
import { systemError } from '../../core/plugin-api.js';
import { answerError, PluginCallError, type DockerPlugin } from '../../lib/docker-plugin/index.js';
import type { VolumeDriver, VolumeDriverCapabilities, VolumeInfo } from '../volume/index.js';

/** What a volume plugin lists in Plugin.Activate's Implements. */
export const VOLUME_DRIVER_IMPLEMENTS = 'VolumeDriver';

// dockerd's generated proxy: Create and Mount may take two minutes, every other call one.
const LONG_TIMEOUT_MS = 120_000;
const SHORT_TIMEOUT_MS = 60_000;

/** A volume as plugins describe it (Go's time.Time zero value means "not known"). */
interface PluginVolume {
  Name?: unknown;
  Mountpoint?: unknown;
  CreatedAt?: unknown;
  Status?: unknown;
}

const ZERO_TIME = /^0001-01-01T00:00:00/;

export class VolumePluginDriver implements VolumeDriver {
  private scope: VolumeDriverCapabilities['scope'] | undefined;

  constructor(private readonly plugin: DockerPlugin, private readonly log: Logger) {}

  get name(): string {
    return this.plugin.name;
  }

  /** The answer to VolumeDriver.<op>; its Err, or no answer at all, thrown naming plugin and operation. */
  private async call(op: string, args: unknown, timeoutMs: number): Promise<Record<string, unknown>> {
    const method = `VolumeDriver.${op}`;
    let answer: unknown;
    try {
      answer = await this.plugin.call(method, args, timeoutMs);
    } catch (err) {
      throw this.failure(method, err);
    }
    const err = answerError(method, answer);
    if (err) throw this.failure(method, err);
    if (!answer || typeof answer !== 'object' || Array.isArray(answer)) {
      throw this.failure(method, new PluginCallError(method, `invalid answer ${JSON.stringify(answer)?.slice(0, 200)}: expected a JSON object`));
    }
    return answer as Record<string, unknown>;
  }

  private failure(method: string, err: unknown) {
    const why = err instanceof PluginCallError ? err.message : `${method}: ${(err as Error).message}`;
    return systemError(`volume plugin ${this.name}: ${why}`, err);
  }

  private info(v: PluginVolume, name: string): VolumeInfo {
    const createdAt = typeof v.CreatedAt === 'string' && v.CreatedAt !== '' && !ZERO_TIME.test(v.CreatedAt) ? v.CreatedAt : undefined;
    const status = v.Status && typeof v.Status === 'object' && !Array.isArray(v.Status) ? (v.Status as Record<string, unknown>) : null;
    return {
      name: typeof v.Name === 'string' && v.Name !== '' ? v.Name : name,
      mountpoint: typeof v.Mountpoint === 'string' ? v.Mountpoint : '',
      ...(createdAt ? { createdAt } : {}),
      status,
    };
  }

  async capabilities(): Promise<VolumeDriverCapabilities> {
    if (this.scope) return { scope: this.scope };
    let scope: string;
    try {
      const caps = (await this.call('Capabilities', {}, SHORT_TIMEOUT_MS)).Capabilities as { Scope?: unknown } | undefined;
      scope = typeof caps?.Scope === 'string' && caps.Scope !== '' ? caps.Scope.toLowerCase() : 'local';
    } catch (err) {
      // Capabilities is optional in the protocol: a plugin without it is local (as dockerd, not cached).
      this.log.debug({ driver: this.name, err: (err as Error).message }, 'volume plugin has no capabilities: local scope');
      return { scope: 'local' };
    }
    if (scope !== 'local' && scope !== 'global') {
      this.log.warn({ driver: this.name, scope }, 'volume plugin answered an invalid scope: local scope');
      scope = 'local';
    }
    this.scope = scope as VolumeDriverCapabilities['scope'];
    return { scope: this.scope };
  }

  async create(name: string, opts: Record<string, string>): Promise<VolumeInfo> {
    await this.call('Create', { Name: name, Opts: opts }, LONG_TIMEOUT_MS);
    // The answer holds no volume: Get and Path say more when asked (dockerd asks Path lazily too).
    return { name, mountpoint: '', status: null };
  }

  async remove(name: string): Promise<void> {
    await this.call('Remove', { Name: name }, SHORT_TIMEOUT_MS);
  }

  /** null when the plugin has no such volume; an Err answer means the same (dockerd reads it so). */
  async get(name: string): Promise<VolumeInfo | null> {
    let answer: Record<string, unknown>;
    try {
      answer = await this.call('Get', { Name: name }, SHORT_TIMEOUT_MS);
    } catch (err) {
      const cause = (err as Error).cause;
      if (cause instanceof PluginCallError && !cause.transport) {
        this.log.debug({ driver: this.name, volume: name, err: cause.message }, 'volume plugin has no such volume');
        return null;
      }
      throw err;
    }
    const v = answer.Volume;
    return v && typeof v === 'object' ? this.info(v as PluginVolume, name) : null;
  }

  async list(): Promise<VolumeInfo[]> {
    const vols = (await this.call('List', {}, SHORT_TIMEOUT_MS)).Volumes;
    if (vols == null) return [];
    if (!Array.isArray(vols)) throw this.failure('VolumeDriver.List', new PluginCallError('VolumeDriver.List', 'invalid answer: Volumes must be a list'));
    return vols
      .filter((v): v is PluginVolume => !!v && typeof v === 'object' && typeof (v as PluginVolume).Name === 'string')
      .map((v) => this.info(v, v.Name as string));
  }

  async mount(name: string, ref: string): Promise<string> {
    const mountpoint = (await this.call('Mount', { Name: name, ID: ref }, LONG_TIMEOUT_MS)).Mountpoint;
    if (typeof mountpoint !== 'string' || !mountpoint.startsWith('/')) {
      // Nothing to bind: release what the plugin may have taken for this ref.
      await this.call('Unmount', { Name: name, ID: ref }, SHORT_TIMEOUT_MS).catch(() => undefined);
      throw this.failure('VolumeDriver.Mount', new PluginCallError('VolumeDriver.Mount', `invalid answer: Mountpoint ${JSON.stringify(mountpoint ?? null)} is not an absolute path`));
    }
    return mountpoint;
  }

  async unmount(name: string, ref: string): Promise<void> {
    await this.call('Unmount', { Name: name, ID: ref }, SHORT_TIMEOUT_MS);
  }

  async path(name: string): Promise<string> {
    const mountpoint = (await this.call('Path', { Name: name }, SHORT_TIMEOUT_MS)).Mountpoint;
    return typeof mountpoint === 'string' ? mountpoint : '';
  }

  async cleanup(): Promise<void> {
    // Mounts stay: the plugin keeps them for the containers still running.
    this.plugin.close();
  }
}
