// Predicates on a request's JSON body (container create, exec create, update). Values are read
// the way the handlers read them (truthiness for flags, exact case for keys): the same bytes,
// parsed by the same JSON.parse, so the policy judges what the handler will do.
import { realpath } from 'node:fs/promises';
import { posix } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { AuthzRequest } from '../authz/index.js';

export interface BodyPredicates {
  /** HostConfig.Privileged (create) or Privileged (exec create) set. */
  privileged?: boolean;
  /** A bind mount exposes one of these host paths (the path itself or a parent of it); "$DAEMON_SOCKET" is the API socket. */
  binds?: string[];
  /** CapAdd holds one of these capabilities ("ALL" counts as every one). */
  capAdd?: string[];
  /** The container's image is none of these (patterns with '*'; "busybox" means docker.io/library/busybox:latest). */
  imageNotIn?: string[];
  /** HostConfig.NetworkMode is one of these (patterns with '*', e.g. "host", "container:*"). */
  networkMode?: string[];
  /** Dotted paths to values: equal, or (for arrays) contained. */
  fields?: Record<string, unknown>;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`);
}

/** docker.io/library/busybox:latest for busybox; digests and registries kept. */
export function normalizeImage(ref: string): string {
  let name = ref.trim();
  if (!name.includes('@')) {
    const last = name.slice(name.lastIndexOf('/') + 1);
    // A pattern ending in '*' already stands for any tag.
    if (!last.includes(':') && !last.endsWith('*')) name += ':latest';
  }
  const first = name.split('/')[0];
  const hasRegistry = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) name = `docker.io/${name.includes('/') ? '' : 'library/'}${name}`;
  return name;
}

async function hostPaths(p: string): Promise<string[]> {
  const clean = posix.normalize(p).replace(/(.)\/+$/, '$1');
  // Symlinks are followed by mount: judge where the bind really points too.
  const real = await realpath(clean).catch(() => clean);
  return real === clean ? [clean] : [clean, real];
}

/**
 * Host sources of bind mounts: HostConfig.Binds "src:dst[:opts]", HostConfig.Mounts with an absolute
 * Source, and local volumes that bind a host path (type=none o=bind device=/path), made by volume
 * create (DriverOpts) or by --mount type=volume (VolumeOptions.DriverConfig.Options).
 */
function bindSources(body: Json): string[] {
  const out: string[] = [];
  const volumeBind = (opts: Json | undefined) => {
    const o = opts?.o;
    const device = opts?.device;
    if (typeof o === 'string' && o.split(',').some((x) => x === 'bind' || x === 'rbind') && typeof device === 'string') out.push(device);
  };
  volumeBind(obj(body.DriverOpts));
  const hc = obj(body.HostConfig);
  if (!hc) return out;
  if (Array.isArray(hc.Binds)) {
    for (const b of hc.Binds) if (typeof b === 'string' && b.startsWith('/')) out.push(b.split(':')[0]);
  }
  if (Array.isArray(hc.Mounts)) {
    for (const m of hc.Mounts) {
      const src = obj(m)?.Source;
      if (typeof src === 'string' && src.startsWith('/')) out.push(src);
      volumeBind(obj(obj(obj(obj(m)?.VolumeOptions)?.DriverConfig)?.Options));
    }
  }
  return out;
}

const exposes = (source: string, target: string) => source === target || source === '/' || target.startsWith(`${source}/`);

async function bindsMatch(sources: string[], listed: string[], daemonSockets: readonly string[]): Promise<boolean> {
  const targets = (await Promise.all(listed.flatMap((t) => (t === '$DAEMON_SOCKET' ? [...daemonSockets] : [t])).map(hostPaths))).flat();
  for (const s of sources) {
    for (const src of await hostPaths(s)) if (targets.some((t) => exposes(src, t))) return true;
  }
  return false;
}

const capName = (c: unknown) => String(c).toUpperCase().replace(/^CAP_/, '');

function field(body: Json, path: string): unknown {
  let at: unknown = body;
  for (const key of path.split('.')) {
    const o = obj(at);
    if (!o || !Object.hasOwn(o, key)) return undefined;
    at = o[key];
  }
  return at;
}

/** Synchronous unless bind sources must be resolved on disk (this runs on every request). */
export function bodyMatches(p: BodyPredicates, req: AuthzRequest, daemonSockets: readonly string[]): boolean | Promise<boolean> {
  // Streamed uploads (tar) carry no configuration; a body that is not a JSON object states nothing.
  const body = obj(req.json());
  if (!body) return false;
  const hc = obj(body.HostConfig);
  if (p.privileged !== undefined && Boolean(hc?.Privileged || body.Privileged) !== p.privileged) return false;
  if (p.capAdd) {
    const added = Array.isArray(hc?.CapAdd) ? (hc!.CapAdd as unknown[]).map(capName) : [];
    const wanted = p.capAdd.map(capName);
    if (!added.some((c) => c === 'ALL' || wanted.includes(c))) return false;
  }
  if (p.networkMode) {
    const mode = typeof hc?.NetworkMode === 'string' ? hc.NetworkMode : undefined;
    if (mode === undefined || !p.networkMode.some((m) => glob(m).test(mode))) return false;
  }
  if (p.imageNotIn) {
    if (typeof body.Image !== 'string') return false;
    const image = normalizeImage(body.Image);
    if (p.imageNotIn.some((allowed) => glob(normalizeImage(allowed)).test(image))) return false;
  }
  if (p.fields) {
    for (const [path, want] of Object.entries(p.fields)) {
      const have = field(body, path);
      if (!isDeepStrictEqual(have, want) && !(Array.isArray(have) && have.some((h) => isDeepStrictEqual(h, want)))) return false;
    }
  }
  if (p.binds) {
    const sources = bindSources(body);
    return sources.length > 0 && bindsMatch(sources, p.binds, daemonSockets);
  }
  return true;
}
