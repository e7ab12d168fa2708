// Image configurations stored by their sha256 (the image ID), written atomically.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { invalid, type PluginFs } from '../../core/plugin-api.js';
import { chainIds, hexOf, sha256 } from '../../lib/digest.js';
import type { ImageConfig } from './image-config.js';
import type { LayerStore } from './layer-store.js';

export interface Image {
  id: string;
  config: ImageConfig;
  /** The exact bytes whose sha256 is the ID. */
  raw: Buffer;
  /** Local parent image (set by commit/build), or ''. */
  parent: string;
  /** chainIDs of the layers, bottom first. */
  chain: string[];
  lastTagTime?: string;
}

/** A temp file of ctx.fs.writeFileAtomic (".<name>.tmp-<pid>-<hex>"). */
export const isTempFile = (name: string) => /^\..+\.tmp-\d+-[a-f0-9]+$/.test(name);

export class ImageDb {
  private readonly images = new Map<string, Image>();
  /** Images start-up found but could not use: kept on disk, reported. */
  readonly unusable: { image: string; reason: string }[] = [];
  private readonly content: string;
  private readonly metadata: string;

  constructor(root: string, private readonly layers: LayerStore, private readonly log: Logger, private readonly fs: PluginFs) {
    this.content = join(root, 'content', 'sha256');
    this.metadata = join(root, 'metadata', 'sha256');
  }

  async load(): Promise<void> {
    await mkdir(this.content, { recursive: true, mode: 0o700 });
    await mkdir(this.metadata, { recursive: true, mode: 0o700 });
    for (const hex of await readdir(this.content)) {
      if (!/^[a-f0-9]{64}$/.test(hex)) {
        // The temp file of a write a crash interrupted: nothing refers to it.
        if (isTempFile(hex)) await rm(join(this.content, hex), { force: true });
        continue;
      }
      try {
        const raw = await readFile(join(this.content, hex));
        if (sha256(raw) !== `sha256:${hex}`) throw new Error('content does not match its digest');
        const image = this.parse(raw);
        image.parent = (await readFile(join(this.metadata, hex, 'parent'), 'utf8').catch(() => '')).trim();
        image.lastTagTime = (await readFile(join(this.metadata, hex, 'lastUpdated'), 'utf8').catch(() => '')).trim() || undefined;
        if (image.chain.some((c) => !this.layers.get(c))) throw new Error('a layer is missing');
        this.images.set(image.id, image);
      } catch (err) {
        this.log.warn({ err: (err as Error).message, image: hex, path: join(this.content, hex) }, 'ignoring unusable image');
        this.unusable.push({ image: `sha256:${hex}`, reason: (err as Error).message });
      }
    }
    // Metadata of an image whose content a crash kept from being written (or whose delete it cut
    // short) belongs to nothing; a kept image's folder may hold temp files of interrupted writes.
    for (const hex of await readdir(this.metadata)) {
      const known = /^[a-f0-9]{64}$/.test(hex) && (this.images.has(`sha256:${hex}`) || this.unusable.some((u) => u.image === `sha256:${hex}`));
      if (!known) {
        this.log.info({ path: join(this.metadata, hex) }, 'removing image metadata without an image');
        await rm(join(this.metadata, hex), { recursive: true, force: true });
        continue;
      }
      for (const f of await readdir(join(this.metadata, hex)).catch(() => [] as string[])) {
        if (isTempFile(f)) await rm(join(this.metadata, hex, f), { force: true });
      }
    }
  }

  private parse(raw: Buffer): Image {
    let config: ImageConfig;
    try {
      config = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw invalid(`invalid image configuration: ${(err as Error).message}`);
    }
    const diffIds = config?.rootfs?.diff_ids;
    if (!Array.isArray(diffIds) || diffIds.some((d) => !/^sha256:[a-f0-9]{64}$/.test(d))) {
      throw invalid('invalid image configuration: rootfs.diff_ids must list sha256 digests');
    }
    return { id: sha256(raw), config, raw, parent: '', chain: chainIds(diffIds) };
  }

  /** Stores a configuration whose layers are all present; returns the (possibly existing) image. */
  async create(raw: Buffer, parent = ''): Promise<Image> {
    const image = this.parse(raw);
    const existing = this.images.get(image.id);
    if (existing) return existing;
    const missing = image.chain.find((c) => !this.layers.get(c));
    if (missing) throw invalid(`image ${image.id} refers to layer ${missing}, which does not exist`);
    image.parent = parent;
    const hex = hexOf(image.id);
    if (parent) {
      await mkdir(join(this.metadata, hex), { recursive: true, mode: 0o700 });
      await this.fs.writeFileAtomic(join(this.metadata, hex, 'parent'), parent);
    }
    await this.fs.writeFileAtomic(join(this.content, hex), raw);
    this.images.set(image.id, image);
    return image;
  }

  async setLastTagTime(id: string, when = new Date().toISOString()): Promise<void> {
    const image = this.images.get(id);
    if (!image) return;
    await mkdir(join(this.metadata, hexOf(id)), { recursive: true, mode: 0o700 });
    await this.fs.writeFileAtomic(join(this.metadata, hexOf(id), 'lastUpdated'), when);
    image.lastTagTime = when;
  }

  get(id: string): Image | undefined {
    return this.images.get(id);
  }

  all(): Image[] {
    return [...this.images.values()];
  }

  /** IDs starting with a hex prefix (without "sha256:"). */
  byPrefix(prefix: string): Image[] {
    return this.all().filter((i) => hexOf(i.id).startsWith(prefix));
  }

  async delete(id: string): Promise<void> {
    if (!this.images.has(id)) return;
    // The content goes first (it is what makes an image): a crash after it leaves a metadata
    // folder, which the next start collects.
    await rm(join(this.content, hexOf(id)), { force: true });
    this.images.delete(id);
    await rm(join(this.metadata, hexOf(id)), { recursive: true, force: true });
  }
}
