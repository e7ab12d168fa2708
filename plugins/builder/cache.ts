// dockerd's classic build cache (image/cache): a step's result is a child image of the step's
// parent whose container_config matches the step's run config (the instruction, with COPY/ADD's
// content hash and RUN's build args in its Cmd). --cache-from images (pulled ones too, which have
// no parent links) serve by their history, as dockerd's getCachedFromHistory: the step's image is
// remade from the source's config and layers.
import type { ContainerConfig, Image, Images } from '../image-store/index.js';

const len = (v: unknown) => (Array.isArray(v) ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0);
const sameList = (a?: string[] | null, b?: string[] | null) => len(a) === len(b) && (a ?? []).every((x, i) => x === (b ?? [])[i]);
const sameKeys = (a?: Record<string, unknown> | null, b?: Record<string, unknown> | null) => len(a) === len(b) && Object.keys(a ?? {}).every((k) => b != null && k in b);

/** dockerd's image/cache compare(), plus the working directory and shell (stricter, never looser). */
export function sameRunConfig(a: ContainerConfig | undefined, b: ContainerConfig): boolean {
  if (!a || a.OpenStdin || b.OpenStdin) return false;
  if ((a.User ?? '') !== (b.User ?? '') || Boolean(a.Tty) !== Boolean(b.Tty)) return false;
  if (!sameList(a.Cmd, b.Cmd) || !sameList(a.Entrypoint, b.Entrypoint) || !sameList(a.Env, b.Env) || !sameList(a.Shell, b.Shell)) return false;
  if ((a.WorkingDir ?? '') !== (b.WorkingDir ?? '')) return false;
  if (len(a.Labels) !== len(b.Labels) || Object.entries(a.Labels ?? {}).some(([k, v]) => b.Labels?.[k] !== v)) return false;
  return sameKeys(a.ExposedPorts, b.ExposedPorts) && sameKeys(a.Volumes, b.Volumes);
}

/** The diffID the history entry at `index` added, if it added one. */
function layerOfHistory(image: Image, index: number): string | undefined {
  const history = image.config.history ?? [];
  if (history[index]?.empty_layer) return undefined;
  const k = history.slice(0, index).filter((h) => !h.empty_layer).length;
  return image.config.rootfs.diff_ids[k];
}

export class BuildCache {
  private readonly sources: Image[] = [];

  constructor(private readonly images: Images, cacheFrom: string[], warn: (message: string) => void) {
    for (const name of cacheFrom) {
      const image = images.find(name);
      // As dockerd: a --cache-from image that is not there is skipped, with a warning.
      if (image) this.sources.push(image);
      else warn(`Could not look up ${name} for cache resolution, skipping`);
    }
  }

  /** The newest image made by this step on `parentId` before, if any. */
  async probe(parentId: string, config: ContainerConfig): Promise<string | undefined> {
    const hits: Image[] = this.images.children(parentId).filter((i) => sameRunConfig(i.config.container_config, config));
    hits.sort((x, y) => Date.parse(y.config.created ?? '') - Date.parse(x.config.created ?? ''));
    if (hits[0]) return hits[0].id;
    return this.fromSources(parentId, config);
  }

  /** A --cache-from image whose history goes through the parent's and then made this step. */
  private async fromSources(parentId: string, config: ContainerConfig): Promise<string | undefined> {
    if (!this.sources.length) return undefined;
    const parent = this.images.db.get(parentId);
    if (!parent) return undefined;
    const history = parent.config.history ?? [];
    const diffIds = parent.config.rootfs.diff_ids;
    const createdBy = (config.Cmd ?? []).join(' ');
    for (const source of this.sources) {
      const sh = source.config.history ?? [];
      if (sh.length <= history.length) continue;
      if (!history.every((h, i) => h.created_by === sh[i].created_by && Boolean(h.empty_layer) === Boolean(sh[i].empty_layer))) continue;
      if (!diffIds.every((d, i) => source.config.rootfs.diff_ids[i] === d)) continue;
      if (sh[history.length].created_by !== createdBy) continue;
      const layer = layerOfHistory(source, history.length);
      const raw = Buffer.from(JSON.stringify({
        architecture: source.config.architecture, os: source.config.os,
        ...(source.config.author ? { author: source.config.author } : {}),
        config: { ...source.config.config }, container_config: config,
        created: sh[history.length].created, docker_version: source.config.docker_version,
        history: [...history, sh[history.length]],
        rootfs: { type: 'layers', diff_ids: [...diffIds, ...(layer ? [layer] : [])] },
      }));
      return (await this.images.db.create(raw, parentId)).id;
    }
    return undefined;
  }
}
