// What the volumes service keeps on disk, each written atomically before it counts in memory:
// a volume's metadata (driver, labels, options, creation time, anonymous or not) in
// volumes/<name>.json, and the mount points of each container in containers/<id>.json (the
// reference counts: which containers use which volume, back after a restart).
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { PluginFs } from '../../core/plugin-api.js';
import { isMissing } from '../../lib/host-cmd.js';
import type { MountPoint } from './mount-spec.js';

export interface VolumeRecord {
  Name: string;
  Driver: string;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  CreatedAt: string;
  Anonymous?: boolean;
}

export class VolumeStore {
  readonly volumes = new Map<string, VolumeRecord>();
  readonly mounts = new Map<string, MountPoint[]>();
  /** Volumes a container being created holds before its mount points are on disk (volume → ids). */
  private readonly claims = new Map<string, Set<string>>();

  constructor(private readonly dir: string, private readonly fs: PluginFs, private readonly log: Logger) {}

  async load(): Promise<void> {
    for (const sub of ['volumes', 'containers']) await mkdir(join(this.dir, sub), { recursive: true, mode: 0o700 });
    for (const [name, data] of await this.readAll('volumes')) this.volumes.set(name, data as VolumeRecord);
    for (const [id, data] of await this.readAll('containers')) this.mounts.set(id, data as MountPoint[]);
  }

  private async readAll(sub: string): Promise<[string, unknown][]> {
    const out: [string, unknown][] = [];
    for (const f of await readdir(join(this.dir, sub))) {
      if (!f.endsWith('.json')) continue;
      try {
        out.push([f.slice(0, -5), JSON.parse(await readFile(join(this.dir, sub, f), 'utf8'))]);
      } catch (err) {
        this.log.warn({ err, file: join(this.dir, sub, f) }, 'cannot read volume state; skipped');
      }
    }
    return out;
  }

  async saveVolume(v: VolumeRecord): Promise<void> {
    await this.fs.writeFileAtomic(join(this.dir, 'volumes', `${v.Name}.json`), JSON.stringify(v));
    this.volumes.set(v.Name, v);
  }

  async deleteVolume(name: string): Promise<void> {
    await unlinkIfThere(join(this.dir, 'volumes', `${name}.json`));
    await this.fs.fsyncDir(join(this.dir, 'volumes'));
    this.volumes.delete(name);
  }

  async saveMounts(containerId: string, mounts: MountPoint[]): Promise<void> {
    await this.fs.writeFileAtomic(join(this.dir, 'containers', `${containerId}.json`), JSON.stringify(mounts));
    this.mounts.set(containerId, mounts);
  }

  async deleteMounts(containerId: string): Promise<void> {
    await unlinkIfThere(join(this.dir, 'containers', `${containerId}.json`));
    this.mounts.delete(containerId);
  }

  /** The containers whose mount points name the volume. */
  usersOf(name: string): string[] {
    const users = [...this.mounts].filter(([, ms]) => ms.some((m) => m.Type === 'volume' && m.Name === name)).map(([id]) => id);
    for (const id of this.claims.get(name) ?? []) if (!users.includes(id)) users.push(id);
    return users;
  }

  /** Counts containerId as a user of the volume from now on, before its mount points are saved. */
  claim(name: string, containerId: string): void {
    let ids = this.claims.get(name);
    if (!ids) this.claims.set(name, (ids = new Set()));
    ids.add(containerId);
  }

  /** Drops the claims of a container (its mount points are saved, or its create failed). */
  release(containerId: string): void {
    for (const [name, ids] of this.claims) if (ids.delete(containerId) && !ids.size) this.claims.delete(name);
  }
}

async function unlinkIfThere(path: string): Promise<void> {
  await unlink(path).catch((err) => { if (!isMissing(err)) throw err; });
}
