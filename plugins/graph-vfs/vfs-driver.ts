// The vfs driver: <root>/dir/<id> holds the whole file system of layer <id>, a copy of its
// parent's plus its own diff. Slow and large, but it needs nothing from the kernel or the file
// system, so it is the fallback everywhere.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { conflict, invalid, messageOf, notFound, systemError } from '../../core/plugin-api.js';
import { applyDiffInto, packChanges, type WhiteoutMode } from '../../lib/archive/index.js';
import type { Change, CreateOptions, GraphDriver } from '../graph/index.js';
import { backingFs } from '../../lib/host-cmd.js';
import { copyTree } from './copy-tree.js';
import { checkLayerId } from './layer-id.js';
import { changesSize, treeChanges } from './tree-changes.js';

const NAME = 'vfs';
// A layer being built is copied under a name no layer id can have, then renamed into place.
const PARTIAL = '.partial-';

const exists = (p: string) => stat(p).then(() => true, () => false);

export async function openVfs(opts: { root: string; log: Logger }): Promise<GraphDriver> {
  const dirs = join(resolve(opts.root), 'dir');
  await mkdir(dirs, { recursive: true, mode: 0o700 });
  // Copies interrupted by a crash are garbage.
  for (const name of await readdir(dirs)) {
    if (name.startsWith(PARTIAL)) await rm(join(dirs, name), { recursive: true, force: true });
  }
  return new VfsDriver(dirs, opts.log);
}

class VfsDriver implements GraphDriver {
  readonly name = NAME;
  // No mounts here, but references are still counted so remove() can refuse a layer in use.
  private readonly refs = new Map<string, number>();

  constructor(private readonly dirs: string, private readonly log: Logger) {}

  private dir(id: string): string {
    checkLayerId(NAME, id);
    return join(this.dirs, id);
  }

  private async existing(id: string): Promise<string> {
    const dir = this.dir(id);
    if (!(await exists(dir))) throw notFound(`graphdriver.vfs: layer ${id} does not exist`);
    return dir;
  }

  async status(): Promise<[string, string][]> {
    return [['Backing Filesystem', await backingFs(this.dirs)]];
  }

  async create(id: string, parent: string | null, opts: CreateOptions = {}): Promise<void> {
    const dir = this.dir(id);
    const keys = Object.keys(opts.storageOpt ?? {});
    if (keys.length) throw invalid(`graphdriver.vfs: layer ${id}: storage option ${keys.join(', ')} is not supported (vfs has no quota support)`);
    if (await exists(dir)) throw conflict(`graphdriver.vfs: layer ${id} already exists`);
    const from = parent === null ? null : await this.existing(parent);
    const partial = join(this.dirs, `${PARTIAL}${id}-${randomBytes(4).toString('hex')}`);
    try {
      if (from) await copyTree(from, partial);
      else await mkdir(partial, { mode: 0o755 });
      await rename(partial, dir);
    } catch (err) {
      await rm(partial, { recursive: true, force: true });
      throw systemError(`graphdriver.vfs: creating layer ${id}${from ? ` from parent ${parent}` : ''}: ${messageOf(err)}`, err);
    }
    this.log.debug({ layer: id, parent }, 'layer created');
  }

  async remove(id: string): Promise<void> {
    const dir = this.dir(id);
    const refs = this.refs.get(id) ?? 0;
    if (refs > 0) throw conflict(`graphdriver.vfs: layer ${id} is in use (${refs} references)`);
    try {
      await rm(dir, { recursive: true, force: true });
    } catch (err) {
      throw systemError(`graphdriver.vfs: removing layer ${id} (${dir}): ${messageOf(err)}`, err);
    }
  }

  async get(id: string): Promise<string> {
    const dir = await this.existing(id);
    this.refs.set(id, (this.refs.get(id) ?? 0) + 1);
    return dir;
  }

  async put(id: string): Promise<void> {
    const refs = this.refs.get(id) ?? 0;
    if (refs <= 1) this.refs.delete(id);
    else this.refs.set(id, refs - 1);
    if (refs === 0) this.log.debug({ layer: id }, 'put of a layer that was not taken');
  }

  async exists(id: string): Promise<boolean> {
    return exists(this.dir(id));
  }

  /** The layer holds a copy of its parent: whiteouts delete from it. */
  async unpackTarget(id: string): Promise<{ dir: string; whiteouts: WhiteoutMode }> {
    return { dir: await this.existing(id), whiteouts: 'delete' };
  }

  async applyDiff(id: string, _parent: string | null, diff: Readable): Promise<number> {
    return applyDiffInto(this.name, id, diff, await this.unpackTarget(id));
  }

  async changes(id: string, parent: string | null): Promise<Change[]> {
    const dir = await this.existing(id);
    return treeChanges(dir, parent === null ? null : await this.existing(parent));
  }

  async diff(id: string, parent: string | null): Promise<Readable> {
    const dir = await this.existing(id);
    const changes = await this.changes(id, parent);
    const entries = changes.map((c) => ({ path: c.path.slice(1), kind: c.kind === 'delete' ? ('whiteout' as const) : ('entry' as const) }));
    return packChanges(dir, entries);
  }

  async diffSize(id: string, parent: string | null): Promise<number> {
    return changesSize(await this.existing(id), await this.changes(id, parent));
  }

  async cleanup(): Promise<void> {
    this.refs.clear();
  }
}
