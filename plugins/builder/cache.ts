// dockerd's classic build cache (image/cache): a step's result is a child image of the step's
// parent whose container_config matches the step's run config (the instruction, with COPY/ADD's
// content hash and RUN's build args in its Cmd). --cache-from adds the named images' ancestry.
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

export class BuildCache {
  private readonly sources = new Set<string>();

  constructor(private readonly images: Images, cacheFrom: string[]) {
    for (const name of cacheFrom) {
      let image = images.find(name);
      while (image && !this.sources.has(image.id)) {
        this.sources.add(image.id);
        image = image.parent ? images.db.get(image.parent) : undefined;
      }
    }
  }

  /** The newest image made by this step on `parentId` before, if any. */
  probe(parentId: string, config: ContainerConfig): string | undefined {
    const hits: Image[] = this.images.children(parentId).filter((i) => sameRunConfig(i.config.container_config, config));
    hits.sort((x, y) => Date.parse(y.config.created ?? '') - Date.parse(x.config.created ?? ''));
    return hits[0]?.id;
  }
}
