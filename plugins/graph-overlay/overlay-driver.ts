// The overlay driver: each layer stores only its own diff; get() stacks it on its parents'
// diffs with an overlay mount. Layout and short links: see layout.ts.
import { mkdir, readdir, realpath, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { conflict, invalid, messageOf, notFound, systemError } from '../../core/plugin-api.js';
import { applyDiffInto, packChanges, type WhiteoutMode } from '../../lib/archive/index.js';
import type { Change, CreateOptions, GraphDriver } from '../graph/index.js';
import { backingFs } from '../../lib/host-cmd.js';
import { LINKS, Layout, MAX_DEPTH, newShortName } from './layout.js';
import { mountOverlay, mountPoints, unmount } from './mounts.js';
import { PROBE_PREFIX } from './probe.js';
import { upperChanges, upperEntries, upperSize } from './upper-changes.js';

const exists = (p: string) => stat(p).then(() => true, () => false);

interface Reference {
  count: number;
  path: string;
  /** False for a base layer, whose diff dir is its whole file system. */
  mounted: boolean;
}

export async function openOverlay(opts: { root: string; log: Logger }): Promise<GraphDriver> {
  const layout = new Layout(resolve(opts.root));
  await mkdir(layout.root, { recursive: true, mode: 0o710 });
  await mkdir(layout.links(), { recursive: true, mode: 0o700 });
  // A crash leaves mounts behind (<root>/<id>/merged); nothing can be using them now that we start.
  for (const point of await mountPoints()) {
    if (basename(point) === 'merged' && dirname(dirname(point)) === layout.root) {
      opts.log.info({ path: point }, 'unmounting a mount left by an earlier run');
      await unmount(point, opts.log);
    }
  }
  for (const name of await readdir(layout.root)) {
    if (name.startsWith(PROBE_PREFIX)) await rm(join(layout.root, name), { recursive: true, force: true });
  }
  return new OverlayDriver(layout, opts.log);
}

class OverlayDriver implements GraphDriver {
  readonly name = 'overlay';
  /** create() reads only the parent's link and lower files, written by its own create; applyDiff fills diff/ alone. */
  readonly independentLayers = true;
  private readonly refs = new Map<string, Reference>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly layout: Layout, private readonly log: Logger) {}

  /** Runs fn after every earlier operation on the same layer (a mount must finish before the next get). */
  private serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.locks.get(id) ?? Promise.resolve()).then(fn, fn);
    const tail = run.then(() => undefined, () => undefined);
    this.locks.set(id, tail);
    void tail.then(() => { if (this.locks.get(id) === tail) this.locks.delete(id); });
    return run;
  }

  private async existing(id: string): Promise<string> {
    const dir = this.layout.layer(id);
    if (!(await exists(dir))) throw notFound(`graphdriver.overlay: layer ${id} does not exist`);
    return dir;
  }

  async status(): Promise<[string, string][]> {
    return [
      ['Backing Filesystem', await backingFs(this.layout.root)],
      ['Supports d_type', 'true'],
      ['Native Overlay Diff', 'true'],
      ['userxattr', 'false'],
    ];
  }

  async create(id: string, parent: string | null, opts: CreateOptions = {}): Promise<void> {
    const dir = this.layout.layer(id);
    const keys = Object.keys(opts.storageOpt ?? {});
    if (keys.length) throw invalid(`graphdriver.overlay: layer ${id}: storage option ${keys.join(', ')} is not supported (overlay has no quota support)`);
    if (await exists(dir)) throw conflict(`graphdriver.overlay: layer ${id} already exists`);
    let lowers: string[] = [];
    if (parent !== null) {
      await this.existing(parent);
      lowers = [`${LINKS}/${await this.layout.shortName(parent)}`, ...(await this.layout.lowers(parent))];
      if (lowers.length > MAX_DEPTH) {
        throw invalid(`graphdriver.overlay: layer ${id}: max depth exceeded: parent ${parent} gives it ${lowers.length} lower layers (the limit is ${MAX_DEPTH})`);
      }
    }
    try {
      await mkdir(dir, { mode: 0o701 });
    } catch (err) {
      // EEXIST here is a concurrent create of the same id: that layer is not ours to roll back.
      throw (err as NodeJS.ErrnoException).code === 'EEXIST'
        ? conflict(`graphdriver.overlay: layer ${id} already exists`)
        : systemError(`graphdriver.overlay: creating layer ${id}: ${messageOf(err)}`, err);
    }
    let short: string | undefined;
    try {
      await mkdir(this.layout.diff(id), { mode: 0o755 });
      short = await this.linkDiff(id);
      await writeFile(join(dir, 'link'), short);
      if (lowers.length) {
        await writeFile(join(dir, 'lower'), lowers.join(':'));
        await mkdir(this.layout.merged(id), { mode: 0o700 });
      }
      if (opts.rw) await mkdir(this.layout.work(id), { mode: 0o700 });
    } catch (err) {
      // Its short link goes by the name made here: the 'link' file that names it for removeFiles
      // may be what the disk refused (a full disk left l/ entries pointing nowhere).
      if (short) await unlink(join(this.layout.links(), short)).catch(() => undefined);
      await this.removeFiles(id).catch(() => undefined);
      throw systemError(`graphdriver.overlay: creating layer ${id}: ${messageOf(err)}`, err);
    }
    this.log.debug({ layer: id, parent, rw: Boolean(opts.rw) }, 'layer created');
  }

  /** Makes l/<short> point at the layer's diff dir; a short name already taken is drawn again. */
  private async linkDiff(id: string): Promise<string> {
    for (;;) {
      const short = newShortName();
      try {
        await symlink(`../${id}/diff`, join(this.layout.links(), short));
        return short;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  }

  async remove(id: string): Promise<void> {
    this.layout.layer(id);
    await this.serial(id, async () => {
      const ref = this.refs.get(id);
      if (ref) throw conflict(`graphdriver.overlay: layer ${id} is in use (${ref.count} references)`);
      try {
        await this.removeFiles(id);
      } catch (err) {
        throw systemError(`graphdriver.overlay: removing layer ${id}: ${messageOf(err)}`, err);
      }
    });
  }

  private async removeFiles(id: string): Promise<void> {
    const short = await this.layout.shortName(id).catch(() => null);
    if (short) await unlink(join(this.layout.links(), short)).catch(() => undefined);
    // Never let rm walk into a mount (it would delete through it into the lower layers' view).
    const merged = this.layout.merged(id);
    if ((await mountPoints()).includes(merged)) await unmount(merged, this.log);
    await rm(this.layout.layer(id), { recursive: true, force: true });
  }

  async get(id: string): Promise<string> {
    this.layout.layer(id);
    return this.serial(id, async () => {
      const ref = this.refs.get(id);
      if (ref) {
        ref.count++;
        return ref.path;
      }
      await this.existing(id);
      const lowers = await this.layout.lowers(id);
      if (lowers.length === 0) {
        this.refs.set(id, { count: 1, path: this.layout.diff(id), mounted: false });
        return this.layout.diff(id);
      }
      const rw = await exists(this.layout.work(id));
      const own = rw ? [] : [`${LINKS}/${await this.layout.shortName(id)}`];
      try {
        await mountOverlay(this.layout.root, `${id}/merged`, {
          lowers: [...own, ...lowers],
          ...(rw ? { upper: `${id}/diff`, work: `${id}/work` } : {}),
        });
      } catch (err) {
        throw systemError(`graphdriver.overlay: mounting layer ${id} (${rw ? 'read-write' : 'read-only'}, ${lowers.length} parents): ${messageOf(err)}`, err);
      }
      const path = this.layout.merged(id);
      this.refs.set(id, { count: 1, path, mounted: true });
      this.log.debug({ layer: id, path }, 'layer mounted');
      return path;
    });
  }

  async put(id: string): Promise<void> {
    this.layout.layer(id);
    return this.serial(id, async () => {
      const ref = this.refs.get(id);
      if (!ref) {
        this.log.debug({ layer: id }, 'put of a layer that was not taken');
        return;
      }
      if (--ref.count > 0) return;
      this.refs.delete(id);
      if (!ref.mounted) return;
      try {
        await unmount(ref.path, this.log);
      } catch (err) {
        throw systemError(`graphdriver.overlay: unmounting layer ${id} (${ref.path}): ${messageOf(err)}`, err);
      }
      this.log.debug({ layer: id }, 'layer unmounted');
    });
  }

  async exists(id: string): Promise<boolean> {
    return exists(this.layout.layer(id));
  }

  /** A layer's diff/ is all applyDiff writes: the layer store may unpack into it in a worker. */
  async unpackTarget(id: string): Promise<{ dir: string; whiteouts: WhiteoutMode }> {
    await this.existing(id);
    return { dir: this.layout.diff(id), whiteouts: 'overlay' };
  }

  async applyDiff(id: string, _parent: string | null, diff: Readable): Promise<number> {
    return applyDiffInto(this.name, id, diff, await this.unpackTarget(id));
  }

  async changes(id: string, parent: string | null): Promise<Change[]> {
    await this.existing(id);
    if (parent === null) return upperChanges(this.layout.diff(id), null);
    // The parents' merged view answers "did this exist before?" with overlay's own rules.
    const view = await this.get(parent);
    try {
      return await upperChanges(this.layout.diff(id), view);
    } finally {
      await this.put(parent);
    }
  }

  async diff(id: string, _parent: string | null): Promise<Readable> {
    await this.existing(id);
    const upper = this.layout.diff(id);
    return packChanges(upper, await upperEntries(upper));
  }

  /** dockerd's overlay2 GetMetadata: the parents' diff dirs (nearest first), upper, merged, work. */
  async metadata(id: string): Promise<Record<string, string>> {
    await this.existing(id);
    const lowers = await Promise.all((await this.layout.lowers(id)).map((l) => realpath(join(this.layout.root, l))));
    return {
      ...(lowers.length ? { LowerDir: lowers.join(':') } : {}),
      MergedDir: this.layout.merged(id), UpperDir: this.layout.diff(id), WorkDir: this.layout.work(id),
    };
  }

  async diffSize(id: string, _parent: string | null): Promise<number> {
    await this.existing(id);
    return upperSize(this.layout.diff(id));
  }

  async cleanup(): Promise<void> {
    const failures: string[] = [];
    for (const [id, ref] of [...this.refs]) {
      this.refs.delete(id);
      if (!ref.mounted) continue;
      await unmount(ref.path, this.log).catch((err) => failures.push(`${id}: ${messageOf(err)}`));
    }
    if (failures.length) throw systemError(`graphdriver.overlay: cleanup could not unmount ${failures.join('; ')}`);
  }
}
