// dockerd's `local` volume driver: <root>/<name>/_data is the volume; with options (type, device,
// o) a file system is mounted there on first use and unmounted after the last user, reference
// counted by user. Mount state is read back from the kernel (mountinfo), so a daemon restarted
// after a crash finds the mounts its containers still use.
import { lookup } from 'node:dns/promises';
import { lstat, mkdir, readFile, readdir, realpath, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { conflict, invalid, notFound, systemError, type PluginFs } from '../../core/plugin-api.js';
import { isMissing, runCommand } from '../../lib/host-cmd.js';
import { KeyedLock } from '../../lib/keyed-lock.js';
import type { VolumeDriver, VolumeDriverCapabilities, VolumeInfo } from '../volume/index.js';
import { mountArguments, validateLocalOptions, type MountOptions } from './local-options.js';

const isMounted = async (path: string) =>
  (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').some((l) => l.split(' ')[4] === path);

export class LocalDriver implements VolumeDriver {
  readonly name = 'local';
  private readonly opts = new Map<string, MountOptions | null>();
  private readonly refs = new Map<string, Set<string>>();
  /** One mount or unmount at a time per volume. */
  private readonly lock = new KeyedLock();

  constructor(private readonly root: string, private readonly log: Logger, private readonly fs: PluginFs) {}

  async load(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o701 });
    for (const name of await readdir(this.root)) {
      const dir = join(this.root, name);
      if (!(await lstat(dir)).isDirectory()) continue;
      this.opts.set(name, await this.readOpts(dir));
    }
  }

  private async readOpts(dir: string): Promise<MountOptions | null> {
    try {
      return JSON.parse(await readFile(join(dir, 'opts.json'), 'utf8')) as MountOptions;
    } catch (err) {
      if (isMissing(err)) return null;
      this.log.warn({ err, volume: dir }, 'cannot read the volume\'s options; treated as a plain folder');
      return null;
    }
  }

  private dataPath(name: string): string {
    return join(this.root, name, '_data');
  }

  async capabilities(): Promise<VolumeDriverCapabilities> {
    return { scope: 'local' };
  }

  async create(name: string, options: Record<string, string>): Promise<VolumeInfo> {
    const existing = await this.get(name);
    if (existing) return existing;
    const mountOpts = validateLocalOptions(options);
    const dir = join(this.root, name);
    await mkdir(join(dir, '_data'), { recursive: true, mode: 0o755 });
    // A folder of the volume without its options would be a plain volume: written before it counts.
    if (mountOpts) await this.fs.writeFileAtomic(join(dir, 'opts.json'), JSON.stringify(mountOpts), 0o600);
    this.opts.set(name, mountOpts);
    return (await this.get(name))!;
  }

  async remove(name: string): Promise<void> {
    const dir = join(this.root, name);
    if (!this.opts.has(name)) throw notFound(`no such volume: ${name}`);
    if (this.refs.get(name)?.size) throw conflict(`volume ${name} is in use`);
    // Never outside the volumes folder: the volume's folder itself must be a real folder in it.
    const st = await lstat(dir).catch((err) => (isMissing(err) ? null : Promise.reject(err)));
    if (st && (!st.isDirectory() || (await realpath(dir)) !== join(await realpath(this.root), name))) {
      throw systemError(`remove ${name}: ${dir} is not a folder of the volumes folder; not removed`);
    }
    const data = this.dataPath(name);
    if (await isMounted(data)) await runCommand('umount', [data]);
    if (await isMounted(data)) throw systemError(`remove ${name}: ${data} is still mounted`);
    // fs.rm removes symbolic links, it never follows them.
    if (st) await rm(dir, { recursive: true, force: true });
    this.opts.delete(name);
    this.refs.delete(name);
  }

  async get(name: string): Promise<VolumeInfo | null> {
    if (!this.opts.has(name)) return null;
    const created = await stat(join(this.root, name)).catch(() => null);
    return { name, mountpoint: this.dataPath(name), ...(created ? { createdAt: created.mtime.toISOString() } : {}) };
  }

  async list(): Promise<VolumeInfo[]> {
    return (await Promise.all([...this.opts.keys()].map((n) => this.get(n)))).filter((v): v is VolumeInfo => v !== null);
  }

  mount(name: string, ref: string): Promise<string> {
    return this.lock.run(name, async () => {
      if (!this.opts.has(name)) throw notFound(`no such volume: ${name}`);
      const data = this.dataPath(name);
      const m = this.opts.get(name);
      if (m && !(await isMounted(data))) {
        const args = await mountArguments(m, data, async (host) => (await lookup(host)).address);
        try {
          await runCommand('mount', args);
        } catch (err) {
          throw invalid(`error while mounting volume '${data}': failed to mount local volume: ${(err as Error).message}`);
        }
        this.log.info({ volume: name, type: m.MountType }, 'mounted local volume');
      }
      const refs = this.refs.get(name) ?? new Set<string>();
      refs.add(ref);
      this.refs.set(name, refs);
      return data;
    });
  }

  unmount(name: string, ref: string): Promise<void> {
    return this.lock.run(name, async () => {
      const refs = this.refs.get(name);
      refs?.delete(ref);
      if (refs?.size) return;
      this.refs.delete(name);
      const data = this.dataPath(name);
      if (this.opts.get(name) && (await isMounted(data))) {
        await runCommand('umount', [data]).catch(() => runCommand('umount', ['-l', data]));
        this.log.info({ volume: name }, 'unmounted local volume');
      }
    });
  }

  async path(name: string): Promise<string> {
    return this.opts.has(name) ? this.dataPath(name) : '';
  }

  async size(name: string): Promise<number> {
    return sizeOf(this.dataPath(name));
  }

  async cleanup(): Promise<void> {
    // Mounts stay for the containers that still run (live restore); the kernel keeps them.
  }
}

/** Bytes of the regular files below `dir` (symbolic links not followed), as dockerd's directory.Size. */
async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else total += (await lstat(p).catch(() => ({ size: 0 }))).size;
    }
  };
  await walk(dir);
  return total;
}
