// The build cache as /system/df and docker builder prune see it: the step images builds made
// (dangling images the next build reuses), recorded in the plugin's state folder. Pruning removes
// them (their layers too, where no other image has them); images built on them keep their layers.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { invalid, type JobEvent, type PluginFs } from '../../core/plugin-api.js';
import type { Image, Images } from '../image-store/index.js';
import { parseGoDuration } from './dockerfile/index.js';

/** A BuildCache entry of GET /system/df (API 1.41's BuildCache object). */
export interface CacheRecord {
  ID: string;
  Parent: string;
  Type: 'regular';
  Description: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt: string | null;
  UsageCount: number;
}

export const PRUNE_FILTERS = ['until', 'id', 'parent', 'description'] as const;

export class StepImages {
  private ids = new Set<string>();
  private writing: Promise<void> = Promise.resolve();

  /** `exists`: whether an image is still in the store (the record forgets removed ones as it is rewritten). */
  constructor(private readonly file: string, private readonly fs: PluginFs, private readonly exists: (id: string) => boolean) {}

  static at(stateDir: string, fs: PluginFs, exists: (id: string) => boolean): StepImages {
    return new StepImages(join(stateDir, 'step-images.json'), fs, exists);
  }

  async load(): Promise<void> {
    const text = await readFile(this.file, 'utf8').catch(() => '[]');
    this.ids = new Set(JSON.parse(text) as string[]);
  }

  /** Records step images (on disk before in memory); writes are serialised across builds. */
  add(ids: string[]): Promise<void> {
    const next = this.writing.then(async () => {
      const all = new Set([...this.ids, ...ids].filter(this.exists));
      await this.fs.writeFileAtomic(this.file, JSON.stringify([...all]));
      this.ids = all;
    });
    this.writing = next.catch(() => {});
    return next;
  }

  private async drop(ids: string[]): Promise<void> {
    const next = this.writing.then(async () => {
      const left = new Set([...this.ids].filter((id) => !ids.includes(id) && this.exists(id)));
      await this.fs.writeFileAtomic(this.file, JSON.stringify([...left]));
      this.ids = left;
    });
    this.writing = next.catch(() => {});
    return next;
  }

  /** The step images still there and unnamed: the cache. */
  private cached(images: Images): Image[] {
    return [...this.ids].map((id) => images.db.get(id)).filter((i): i is Image => !!i && images.isDangling(i));
  }

  records(images: Images, inUse: (id: string) => boolean): CacheRecord[] {
    const cache = this.cached(images);
    const cacheIds = new Set(cache.map((i) => i.id));
    const othersLayers = new Set(images.db.all().filter((i) => !cacheIds.has(i.id)).flatMap((i) => i.chain));
    return cache.map((image) => {
      const top = image.chain.at(-1);
      const parent = image.parent ? images.db.get(image.parent) : undefined;
      const own = top && !(parent?.chain.includes(top)) ? top : undefined;
      return {
        ID: image.id.replace(/^sha256:/, '').slice(0, 25),
        Parent: image.parent ? image.parent.replace(/^sha256:/, '').slice(0, 25) : '',
        Type: 'regular',
        Description: image.config.history?.at(-1)?.created_by ?? '',
        InUse: inUse(image.id),
        Shared: own ? othersLayers.has(own) : false,
        Size: own ? images.layers.get(own)?.size ?? 0 : 0,
        CreatedAt: image.config.created ?? '',
        LastUsedAt: image.config.created ?? null,
        UsageCount: 0,
      };
    });
  }

  /** docker builder prune: the cache images the filters select (oldest first past keep-storage). */
  async prune(images: Images, opts: { filters: Record<string, string[]>; keepStorage: number; inUse: (id: string) => boolean; emit: (e: JobEvent) => void }): Promise<{ CachesDeleted: string[] | null; SpaceReclaimed: number }> {
    const f = opts.filters;
    const until = f.until?.[0] ? untilTime(f.until[0]) : undefined;
    const matches = (image: Image) => {
      const short = image.id.replace(/^sha256:/, '');
      if (opts.inUse(image.id)) return false;
      if (until !== undefined && Date.parse(image.config.created ?? '') >= until) return false;
      if (f.id?.length && !f.id.some((x) => short.startsWith(x.replace(/^sha256:/, '')))) return false;
      if (f.parent?.length && !f.parent.some((x) => image.parent.replace(/^sha256:/, '').startsWith(x.replace(/^sha256:/, '')))) return false;
      if (f.description?.length && !f.description.some((x) => (image.config.history?.at(-1)?.created_by ?? '').includes(x))) return false;
      return true;
    };
    let chosen = this.cached(images).filter(matches).sort((a, b) => Date.parse(a.config.created ?? '') - Date.parse(b.config.created ?? ''));
    if (opts.keepStorage > 0) {
      const sizes = new Map(this.records(images, opts.inUse).map((r) => [r.ID, r.Size]));
      let total = [...sizes.values()].reduce((n, s) => n + s, 0);
      chosen = chosen.filter((image) => {
        if (total <= opts.keepStorage) return false;
        total -= sizes.get(image.id.replace(/^sha256:/, '').slice(0, 25)) ?? 0;
        return true;
      });
    }
    const before = images.layers.all().reduce((n, l) => n + l.size, 0);
    const deleted: string[] = [];
    // Children first: a parent's layers are released only once nothing stands on them.
    const depth = (i: Image) => i.chain.length;
    for (const image of chosen.sort((a, b) => depth(b) - depth(a))) {
      await images.db.delete(image.id);
      await images.releaseLayers(image.chain);
      deleted.push(image.id.replace(/^sha256:/, ''));
      opts.emit({ Type: 'image', Action: 'delete', Actor: { ID: image.id, Attributes: { name: image.id } } });
    }
    await this.drop(chosen.map((i) => i.id));
    const reclaimed = before - images.layers.all().reduce((n, l) => n + l.size, 0);
    return { CachesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  }
}

/** until: a duration before now ("24h") or a timestamp. */
function untilTime(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (!Number.isNaN(t)) return t;
  try {
    return Date.now() - parseGoDuration(v) / 1e6;
  } catch {
    throw invalid(`invalid filter 'until=${v}': not a duration or a timestamp`);
  }
}
