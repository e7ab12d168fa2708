// Layers addressed by chainID, stored once however many images share them. Metadata lives in
// layerdb/sha256/<chainID>/ and is committed by renaming a complete folder: a crash leaves no
// half layer, and what a crash left (temp folders, driver layers being filled) is removed at start.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { PluginFs } from '../../core/plugin-api.js';
import { applyDiffContext, assembleTarSplit, decompressed, recordTarSplit, unpackLayer, type TarSplitRecord } from '../../lib/archive/index.js';
import type { GraphDriver } from '../graph/index.js';
import { hexOf, sha256 } from '../../lib/digest.js';
import { tee } from './tee.js';
import { Semaphore } from '../../lib/semaphore.js';

export interface Layer {
  chainId: string;
  diffId: string;
  parent: string | null;
  cacheId: string;
  /** Bytes of content the layer adds. */
  size: number;
  /** Length of the layer's uncompressed tar (what `docker save` writes as layer.tar). */
  tarSize: number;
  /**
   * Made by a commit whose image is not recorded yet: if a crash comes first, start-up collects
   * it. Layers of a pull or load are not provisional: an interrupted pull's complete layers stay
   * for the next one to reuse.
   */
  provisional?: boolean;
}

/** One layer of a chain given to registerChain. */
export interface ChainItem {
  diffId: string;
  /** Opens the layer tar (plain or gzip); opened again if the layer has to be applied again. */
  tar: () => Readable;
  /** Turns a failure of this layer into the error to report (e.g. its download's own verdict). */
  explain?: (err: unknown) => unknown | Promise<unknown>;
  /** The layer is in the store (called in chain order). */
  onRegistered?: (layer: Layer) => void;
}

interface Slot {
  cacheId: string;
  committed: boolean;
}

interface Applied {
  diffId: string;
  size: number;
  tarSize: number;
  split: TarSplitRecord;
}

/** Stops the other layers of a chain when one failed. */
class ChainCancelled extends Error {
  constructor() { super('layer chain registration cancelled'); }
}

const explain = async (item: ChainItem, err: unknown) => (item.explain ? item.explain(err) : err);

/** The metadata file that marks a provisional layer (see Layer.provisional). */
const PROVISIONAL = 'provisional';

export class LayerStore {
  private readonly layers = new Map<string, Layer>();
  /** Layers start-up found but could not read: kept on disk, reported. */
  readonly unreadable: { layer: string; reason: string }[] = [];
  private readonly dir: string;
  private readonly tmp: string;

  /** Layers being committed, by chainID. */
  private readonly committing = new Map<string, Promise<Layer>>();

  constructor(private readonly driver: GraphDriver, root: string, private readonly log: Logger, private readonly fs: PluginFs) {
    this.dir = join(root, 'sha256');
    this.tmp = join(root, 'tmp');
  }

  async load(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await mkdir(this.tmp, { recursive: true, mode: 0o700 });
    for (const hex of await readdir(this.dir)) {
      const d = join(this.dir, hex);
      try {
        const read = (f: string) => readFile(join(d, f), 'utf8').then((s) => s.trim());
        const [diffId, cacheId, size, tarSize, parent, provisional] = await Promise.all([
          read('diff'), read('cache-id'), read('size'), read('tar-size'), read('parent').catch(() => ''), read(PROVISIONAL).catch(() => ''),
        ]);
        this.layers.set(`sha256:${hex}`, {
          chainId: `sha256:${hex}`, diffId, cacheId, size: Number(size), tarSize: Number(tarSize), parent: parent || null, ...(provisional ? { provisional: true } : {}),
        });
      } catch (err) {
        this.log.warn({ err, layer: hex, path: d }, 'ignoring unreadable layer metadata');
        this.unreadable.push({ layer: `sha256:${hex}`, reason: (err as Error).message });
      }
    }
    // Leftovers of an interrupted registration (after reading the layers: a marker may name a committed one): a marker names the driver layer being filled.
    for (const name of await readdir(this.tmp)) {
      if (name.startsWith('filling-')) {
        const cacheId = name.slice('filling-'.length);
        // A crash between the commit and the marker's removal: the layer is whole, keep it.
        if (this.all().some((l) => l.cacheId === cacheId)) { await rm(join(this.tmp, name), { force: true }); continue; }
        this.log.info({ cacheId }, 'removing a layer left half-applied by an interrupted load');
        await this.driver.remove(cacheId).catch((err) => this.log.warn({ err, cacheId }, 'cannot remove leftover layer'));
      } else if (name.startsWith('removing-')) {
        // A removal interrupted after its metadata was moved aside: finish it.
        const cacheId = (await readFile(join(this.tmp, name, 'cache-id'), 'utf8').catch(() => '')).trim();
        if (cacheId) await this.driver.remove(cacheId).catch((err) => this.log.warn({ err, cacheId }, 'cannot remove leftover layer'));
      }
      await rm(join(this.tmp, name), { recursive: true, force: true });
    }
  }

  get(chainId: string): Layer | undefined {
    return this.layers.get(chainId);
  }

  all(): Layer[] {
    return [...this.layers.values()];
  }

  /**
   * Applies a layer tar (plain or gzip) on `parent` and returns the layer; a layer whose chainID
   * already exists is not stored twice. `expectedDiffId`, when given, must match.
   */
  async register(tar: Readable, parent: string | null, expectedDiffId?: string, opts: { provisional?: boolean } = {}): Promise<Layer> {
    const parentLayer = this.parentOf(parent);
    const [slot] = await this.reserve(1);
    try {
      await this.driver.create(slot.cacheId, parentLayer?.cacheId ?? null);
      return await this.verifyAndCommit(slot, await this.apply(tar, slot.cacheId, parentLayer?.cacheId ?? null), parent, expectedDiffId, opts.provisional);
    } finally {
      await this.release([slot]);
    }
  }

  /** The image owning a provisional layer is recorded: it is an ordinary layer from now on. */
  async confirm(chainId: string): Promise<void> {
    const layer = this.layers.get(chainId);
    if (!layer?.provisional) return;
    const dir = join(this.dir, hexOf(chainId));
    await rm(join(dir, PROVISIONAL), { force: true });
    await this.fs.fsyncDir(dir);
    delete layer.provisional;
  }

  /**
   * Registers a chain of layers on `parent`, bottom first, whose tars may arrive concurrently.
   * With a driver of independent layers, the driver layers are created in order, the tars applied
   * concurrently (at most `concurrency` at once) and each layer committed, in order, as soon as it
   * and those below are in; otherwise the layers are registered one after another. Committed layers
   * stay when a later one fails (as with register, the caller releases them); nothing uncommitted does.
   */
  async registerChain(parent: string | null, items: ChainItem[], opts: { concurrency?: number } = {}): Promise<Layer[]> {
    const parentLayer = this.parentOf(parent);
    if (!this.driver.independentLayers || items.length < 2) return this.registerInTurn(parent, items);
    const slots = await this.reserve(items.length);
    const filling = new Set<Readable>();
    let failure: { err: unknown } | undefined;
    const cancel = (err: unknown) => {
      failure ??= { err };
      for (const s of filling) s.destroy(new ChainCancelled());
    };
    // Children are created on parents still empty (the driver promises that is all they need),
    // in order; a layer is filled as soon as its own creation is done.
    const created: Promise<void>[] = [];
    for (let i = 0; i < slots.length; i++) {
      const below = i > 0 ? created[i - 1] : Promise.resolve();
      created.push(below.then(() => this.driver.create(slots[i].cacheId, i > 0 ? slots[i - 1].cacheId : parentLayer?.cacheId ?? null)));
      created[i].catch(() => {});
    }
    const fill = async (i: number): Promise<Applied> => {
      try {
        await created[i];
      } catch (err) {
        cancel(err);
        throw err;
      }
      if (failure) throw new ChainCancelled();
      let tar: Readable | undefined;
      try {
        tar = items[i].tar();
        filling.add(tar);
        return await this.apply(tar, slots[i].cacheId, i > 0 ? slots[i - 1].cacheId : parentLayer?.cacheId ?? null);
      } catch (err) {
        // A layer stopped because another failed has nothing to explain (and must not wait for its download).
        if (!failure) cancel(await explain(items[i], err));
        throw err;
      } finally {
        if (tar) filling.delete(tar);
      }
    };
    const fills: Promise<Applied>[] = [];
    try {
      const pool = new Semaphore(Math.max(1, opts.concurrency ?? 3));
      for (let i = 0; i < items.length; i++) {
        const p = pool.run(() => fill(i));
        p.catch(() => {});
        fills.push(p);
      }
      const out: Layer[] = [];
      let below = parent;
      for (let i = 0; i < items.length; i++) {
        let layer: Layer;
        try {
          layer = await this.verifyAndCommit(slots[i], await fills[i], below, items[i].diffId);
        } catch (err) {
          if (!failure) cancel(await explain(items[i], err));
          throw failure!.err;
        }
        if (layer.cacheId !== slots[i].cacheId) {
          // Registered meanwhile by someone else: ours above it sit on our copy, so the rest is redone on theirs.
          cancel(new ChainCancelled());
          await Promise.allSettled(fills);
          items[i].onRegistered?.(layer);
          return [...out, layer, ...(await this.registerInTurn(layer.chainId, items.slice(i + 1)))];
        }
        items[i].onRegistered?.(layer);
        out.push(layer);
        below = layer.chainId;
      }
      return out;
    } finally {
      cancel(new ChainCancelled());
      await Promise.allSettled([...created, ...fills]);
      await this.release(slots);
    }
  }

  /** The sequential path: each layer on the one below, reusing those that exist. */
  private async registerInTurn(parent: string | null, items: ChainItem[]): Promise<Layer[]> {
    const out: Layer[] = [];
    for (const item of items) {
      const chainId = parent ? sha256(`${parent} ${item.diffId}`) : item.diffId;
      const layer = this.layers.get(chainId) ?? await this.register(item.tar(), parent, item.diffId).catch(async (err) => { throw await explain(item, err); });
      item.onRegistered?.(layer);
      out.push(layer);
      parent = layer.chainId;
    }
    return out;
  }

  private parentOf(parent: string | null): Layer | undefined {
    const layer = parent ? this.layers.get(parent) : undefined;
    if (parent && !layer) throw new Error(`parent layer ${parent} does not exist`);
    return layer;
  }

  /** New driver layer ids, each with a marker that makes the next start remove it unless committed. */
  private async reserve(n: number): Promise<Slot[]> {
    const slots = Array.from({ length: n }, () => ({ cacheId: randomBytes(32).toString('hex'), committed: false }));
    for (const s of slots) await writeFile(join(this.tmp, `filling-${s.cacheId}`), '');
    await this.fs.fsyncDir(this.tmp);
    return slots;
  }

  /** Removes the driver layers not committed (top first), then every marker. */
  private async release(slots: Slot[]): Promise<void> {
    for (const s of [...slots].reverse()) if (!s.committed) await this.driver.remove(s.cacheId).catch(() => {});
    for (const s of slots) await rm(join(this.tmp, `filling-${s.cacheId}`), { force: true });
  }

  /** Checks the diffID and commits the layer; an existing layer with its chainID is returned instead. */
  private async verifyAndCommit(slot: Slot, applied: Applied, parent: string | null, expectedDiffId?: string, provisional = false): Promise<Layer> {
    const { diffId, size, tarSize, split } = applied;
    if (expectedDiffId && expectedDiffId !== diffId) {
      throw new Error(`layer content does not match its digest: expected ${expectedDiffId}, got ${diffId}`);
    }
    const chainId = parent ? sha256(`${parent} ${diffId}`) : diffId;
    const existing = this.layers.get(chainId);
    if (existing) return existing;
    // Two commits of the same content on the same parent at once (concurrent builds, pulls): the
    // second gets the first one's layer, and its own copy goes with its slot.
    const inFlight = this.committing.get(chainId);
    if (inFlight) return inFlight;
    const layer: Layer = { chainId, diffId, parent, cacheId: slot.cacheId, size, tarSize, ...(provisional ? { provisional: true } : {}) };
    const done = this.commit(layer, split).then(() => {
      slot.committed = true;
      this.layers.set(chainId, layer);
      return layer;
    });
    this.committing.set(chainId, done);
    try {
      return await done;
    } finally {
      this.committing.delete(chainId);
    }
  }

  /**
   * Unpacks the tar into the driver layer, with its diffID, sizes and tar-split: in a worker thread
   * when the driver says where it unpacks, else through its applyDiff.
   */
  private async apply(tar: Readable, cacheId: string, parentCacheId: string | null): Promise<Applied> {
    // Its errors come back as this promise's; a chain may cancel it before anything reads it.
    tar.on('error', () => {});
    const target = await this.driver.unpackTarget?.(cacheId, parentCacheId);
    if (!target) return this.applyThroughDriver(tar, cacheId, parentCacheId);
    const r = await unpackLayer(tar, target.dir, target.whiteouts, applyDiffContext(this.driver.name, cacheId));
    return { diffId: r.diffId, size: r.size, tarSize: r.tarSize, split: r.tarSplit };
  }

  /** Streams the tar once into the hash, the tar-split recorder and the driver's applyDiff. */
  private async applyThroughDriver(tar: Readable, cacheId: string, parentCacheId: string | null): Promise<Applied> {
    const src = await decompressed(tar);
    const hash = createHash('sha256');
    let tarSize = 0;
    const [toDriver, toSplit] = tee(src, 2, (chunk) => {
      hash.update(chunk);
      tarSize += chunk.length;
    });
    const stop = (err: unknown) => { src.destroy(); toDriver.resume(); toSplit.resume(); throw err; };
    const [size, split] = await Promise.all([
      this.driver.applyDiff(cacheId, parentCacheId, toDriver).then((n) => { toDriver.resume(); return n; }, stop),
      recordTarSplit(toSplit).then((r) => { toSplit.resume(); return r; }, stop),
    ]);
    await new Promise<void>((resolve, reject) => {
      if (src.readableEnded) resolve();
      else { src.once('end', resolve); src.once('error', reject); }
    });
    return { diffId: `sha256:${hash.digest('hex')}`, size, tarSize, split };
  }

  private async commit(layer: Layer, split: TarSplitRecord): Promise<void> {
    const staging = join(this.tmp, `commit-${hexOf(layer.chainId)}-${randomBytes(4).toString('hex')}`);
    await mkdir(staging, { mode: 0o700 });
    try {
      // The staging folder appears whole or not at all: its files need no renames of their own.
      await this.fs.writeFilesDurably(staging, {
        diff: layer.diffId,
        'cache-id': layer.cacheId,
        size: String(layer.size),
        'tar-size': String(layer.tarSize),
        ...(layer.parent ? { parent: layer.parent } : {}),
        ...(layer.provisional ? { [PROVISIONAL]: '1' } : {}),
        'tar-split.json.gz': gzipSync(JSON.stringify(split)),
      });
      await rename(staging, join(this.dir, hexOf(layer.chainId)));
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw err;
    }
    await this.fs.fsyncDir(this.dir);
  }

  /** The layer's original tar, byte for byte (its sha256 is the diffID). */
  async tarStream(chainId: string): Promise<Readable> {
    const layer = this.layers.get(chainId);
    if (!layer) throw new Error(`layer ${chainId} does not exist`);
    const split = JSON.parse(gunzipSync(await readFile(join(this.dir, hexOf(chainId), 'tar-split.json.gz'))).toString()) as TarSplitRecord;
    const root = await this.driver.get(layer.cacheId);
    const out = assembleTarSplit(split, (path) => createReadStream(join(root, path)));
    let released = false;
    const release = () => { if (!released) { released = true; void this.driver.put(layer.cacheId); } };
    out.once('end', release);
    out.once('close', release);
    out.once('error', release);
    return out;
  }

  /** A container's read-write layer on top of an image's top layer (the layer ID is the container's). */
  async createRwLayer(id: string, top: string | null): Promise<void> {
    const parent = top ? this.layers.get(top) : undefined;
    if (top && !parent) throw new Error(`layer ${top} does not exist`);
    await this.driver.create(id, parent?.cacheId ?? null, { rw: true });
  }

  /** Bytes a container's read-write layer holds over the image (docker ps -s, SizeRw). */
  async rwLayerSize(id: string, top: string | null): Promise<number> {
    const parent = top ? this.layers.get(top) : undefined;
    return this.driver.diffSize(id, parent?.cacheId ?? null);
  }

  async removeRwLayer(id: string): Promise<void> {
    await this.driver.remove(id);
  }

  /** Removes a layer nobody uses any more (the caller checks that). */
  async remove(chainId: string): Promise<void> {
    const layer = this.layers.get(chainId);
    if (!layer) return;
    // Metadata first: a crash after this leaves an orphan driver layer, never a layer without content.
    const trash = join(this.tmp, `removing-${hexOf(chainId)}`);
    await rename(join(this.dir, hexOf(chainId)), trash);
    this.layers.delete(chainId);
    await this.driver.remove(layer.cacheId);
    await rm(trash, { recursive: true, force: true });
  }
}
