// A path as the container sees it, turned into a host path: symlinks and ".." are resolved as the
// kernel would inside the container (resolveParts: they never lead out of its root), and a path
// at or under a bind mount's destination lands in the bind's source, as dockerd mounts volumes
// for docker cp.
import { join, posix } from 'node:path';
import { resolveParts } from '../../../lib/scoped-path.js';

export interface PathMount {
  /** Absolute, cleaned path inside the container. */
  destination: string;
  /** Host path of what is mounted there. */
  source: string;
  readonly: boolean;
}

export interface ResolvedPath {
  /** The host path; its last component is followed only if asked. */
  host: string;
  /** The same place as an absolute path in the container, symlinks resolved. */
  inContainer: string;
  /** The bind mount the path lies in, or null for the container's own root file system. */
  mount: PathMount | null;
}

export class ContainerPaths {
  private readonly mounts: { parts: string[]; mount: PathMount }[];

  constructor(private readonly root: string, readonly bindMounts: PathMount[]) {
    // Longest destination first: a mount inside another mount wins.
    this.mounts = bindMounts
      .map((mount) => ({ parts: mount.destination.split('/').filter(Boolean), mount }))
      .sort((a, b) => b.parts.length - a.parts.length);
  }

  private mountOf(parts: string[]) {
    return this.mounts.find((m) => m.parts.length <= parts.length && m.parts.every((p, i) => parts[i] === p));
  }

  /** Host path of resolved container path components (no symlink in them is followed here). */
  private hostOf(parts: string[]): { host: string; mount: PathMount | null } {
    const m = this.mountOf(parts);
    if (!m) return { host: join(this.root, ...parts), mount: null };
    return { host: join(m.mount.source, ...parts.slice(m.parts.length)), mount: m.mount };
  }

  /**
   * Resolves `path` (absolute inside the container). With follow false the last component is
   * kept as it is (a symlink stays a symlink: docker cp copies the link itself), unless the
   * path ends with "/" or "/.", as in dockerd.
   */
  async resolve(path: string, follow: boolean): Promise<ResolvedPath> {
    const parts = path.split('/').filter(Boolean);
    const last = parts.at(-1);
    const keepLast = !follow && !path.endsWith('/') && last !== undefined && last !== '.' && last !== '..';
    const dirParts = await resolveParts((keepLast ? parts.slice(0, -1) : parts).join('/'), (p) => this.hostOf(p).host);
    const done = keepLast ? [...dirParts, last] : dirParts;
    const { host, mount } = this.hostOf(done);
    return { host, inContainer: `/${done.join('/')}`, mount };
  }
}

/** dockerd's path in the container: absolute and cleaned, a trailing "/" or "/." kept. */
export function containerAbsPath(path: string): string {
  const clean = posix.join('/', path).replace(/(.)\/+$/, '$1');
  if (path.endsWith('/.') && clean !== '/') return `${clean}/.`;
  if (path.endsWith('/') && clean !== '/') return `${clean}/`;
  return clean;
}

/** The name of the path's last component, as Go's filepath.Base gives it. */
export function baseName(absPath: string): string {
  const trimmed = absPath.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}
