// docker cp and docker export on an open container file system (container-fs.ts): stat a path,
// pack it as dockerd names it, extract a tar into a folder. Paths are resolved inside the
// container (container-path.ts) and archives are read and written by the graph archive library,
// which never follows a symlink out of the folder it works in.
import { lstat, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { invalid, notFound } from '../../../core/plugin-api.js';
import { resolveUser } from '../../../lib/resolve-user.js';
import { extractLayer, packChanges, packRoots, type ExtractOptions, type PackEntry } from '../../../lib/archive/index.js';
import { isMissing } from '../../../lib/host-cmd.js';
import type { Container } from '../records/index.js';
import type { ContainerFsHandle } from './container-fs.js';
import { baseName, containerAbsPath, type ResolvedPath } from './container-path.js';
import { pathStatOf, type PathStat } from './path-stat.js';
import { mountsBelow, routeThroughMounts } from './mount-routing.js';

const fileNotFound = (path: string, ref: string) => notFound(`Could not find the file ${path} in container ${ref}`);

/** Stats `path` (the last component not followed), as HEAD /containers/{id}/archive. `ref` names the container as the client did. */
export async function statPath(h: ContainerFsHandle, path: string, ref: string): Promise<{ stat: PathStat; resolved: ResolvedPath; absPath: string }> {
  if (!path) throw invalid('bad parameter: path cannot be empty');
  const absPath = containerAbsPath(path);
  const resolved = await h.paths.resolve(absPath, false);
  const st = await lstat(resolved.host, { bigint: true }).catch((err) => (isMissing(err) ? null : Promise.reject(err)));
  if (!st) throw fileNotFound(path, ref);
  const linkTarget = st.isSymbolicLink() ? (await h.paths.resolve(absPath, true)).inContainer : '';
  return { stat: pathStatOf(baseName(absPath), st, linkTarget), resolved, absPath };
}

/**
 * A tar of `path` whose entries start with the path's own name (dockerd's TarResourceRebase): a
 * symlink is packed as the link itself, a folder with everything below it, mounts below it (volumes,
 * binds, its own /etc files) with what is mounted there, as dockerd packs with them mounted.
 */
export async function archivePath(h: ContainerFsHandle, path: string, ref: string): Promise<{ stat: PathStat; tar: Readable }> {
  const { stat, resolved, absPath } = await statPath(h, path, ref);
  const packRoot = dirname(resolved.host);
  const base = basename(resolved.host);
  const rebase = baseName(absPath);
  const entries: PackEntry[] = [{ path: base, kind: 'entry', as: rebase }];
  if (stat.mode < 2 ** 31) return { stat, tar: packChanges(packRoot, entries) };
  const prefix = rebase === '/' ? '' : rebase;
  await listTree(packRoot, base, prefix, entries);
  const below = resolved.mount ? [] : mountsBelow(resolved.inContainer, h.paths.bindMounts);
  if (!below.length) return { stat, tar: packChanges(packRoot, entries) };
  // Each mount's name in the archive; what lies at or under a mount comes from the mount alone.
  const named = below.map((m) => ({ m, as: `${prefix}/${m.destination.slice(resolved.inContainer === '/' ? 1 : resolved.inContainer.length + 1)}` }));
  const hidden = (as: string | undefined, inside?: string) => named.some((n) => n.as !== inside && (inside === undefined || n.as.startsWith(`${inside}/`))
    && (as === n.as || as?.startsWith(`${n.as}/`)));
  const parts = [{ root: packRoot, entries: entries.filter((e) => !hidden(e.as)) }];
  for (const { m, as } of named) {
    const mountEntries: PackEntry[] = [{ path: basename(m.source), kind: 'entry', as }];
    if ((await lstat(m.source).catch(() => null))?.isDirectory()) await listTree(dirname(m.source), basename(m.source), as, mountEntries);
    parts.push({ root: dirname(m.source), entries: mountEntries.filter((e) => !hidden(e.as, as)) });
  }
  return { stat, tar: packRoots(parts) };
}

/** docker export: everything in the container's root file system, names relative to it. */
export async function exportRoot(h: ContainerFsHandle): Promise<Readable> {
  const entries: PackEntry[] = [];
  await listTree(h.root, '', '', entries);
  return packChanges(h.root, entries.map(({ path, kind }) => ({ path, kind })));
}

/** Entries below folder `rel` of `root`, in Go's walk order; symlinks are listed, never entered. */
async function listTree(root: string, rel: string, as: string, out: PackEntry[]): Promise<void> {
  const children = await readdir(rel ? join(root, rel) : root, { withFileTypes: true });
  children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const child of children) {
    const path = rel ? `${rel}/${child.name}` : child.name;
    const named = `${as}${as === '' && rel === '' ? '' : '/'}${child.name}`;
    out.push({ path, kind: 'entry', as: named });
    if (child.isDirectory()) await listTree(root, path, named, out);
  }
}

export interface ExtractRequest {
  path: string;
  ref: string;
  tar: Readable;
  copyUIDGID: boolean;
  noOverwriteDirNonDir: boolean;
}

/** PUT /containers/{id}/archive: unpacks a tar into the folder `path` leads to (symlinks followed inside the container). */
export async function extractToDir(h: ContainerFsHandle, c: Container, req: ExtractRequest): Promise<void> {
  if (!req.path) throw invalid('bad parameter: path cannot be empty');
  const resolved = await h.paths.resolve(containerAbsPath(req.path), true);
  const st = await lstat(resolved.host).catch((err) => (isMissing(err) ? null : Promise.reject(err)));
  if (!st) throw fileNotFound(req.path, req.ref);
  if (!st.isDirectory()) throw invalid('extraction point is not a directory');
  if (resolved.mount?.readonly) throw invalid('mounted volume is marked read-only');
  if (!resolved.mount && c.HostConfig.ReadonlyRootfs) throw invalid('container rootfs is marked read-only');
  const user = req.copyUIDGID && c.Config.User ? await resolveUser(h.root, c.Config.User) : undefined;
  // Mounts below the folder (its own files in /etc, -v binds, volumes) get their entries.
  const below = resolved.mount ? [] : mountsBelow(resolved.inContainer, h.paths.bindMounts);
  const opts: ExtractOptions = {
    whiteouts: 'delete',
    noOverwriteDirNonDir: req.noOverwriteDirNonDir,
    ...(user ? { owner: { uid: user.uid, gid: user.gid } } : {}),
  };
  const tar = below.length ? await routeThroughMounts(req.tar, resolved.inContainer, below, opts) : req.tar;
  await extractLayer(tar, resolved.host, opts);
}
