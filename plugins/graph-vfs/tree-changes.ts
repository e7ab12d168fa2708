// What a layer folder changed against its parent's folder, computed by walking both, as dockerd's
// ChangesDirs does: an entry is modified when its type, mode, owner or device differs, or (not
// for folders, whose size and mtime say nothing) its size or mtime, or its xattrs; a folder with
// a change anywhere below it is listed as modified too, so its metadata travels with the diff.
import type { BigIntStats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Change } from '../graph/index.js';
import { namesIn, statOrNull } from '../../lib/host-cmd.js';
import { treeXattrs } from './xattrs.js';




function differs(a: BigIntStats, b: BigIntStats): boolean {
  if (a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid || a.rdev !== b.rdev) return true;
  return !a.isDirectory() && (a.size !== b.size || a.mtimeNs !== b.mtimeNs);
}

/** Changes of folder `layer` against folder `parent` (null: everything in layer is added), in walk order. */
export async function treeChanges(layer: string, parent: string | null): Promise<Change[]> {
  const changes: Change[] = [];
  const [ourXattrs, theirXattrs] = await Promise.all([treeXattrs(layer, 'vfs'), parent ? treeXattrs(parent, 'vfs') : new Map<string, string>()]);
  const walk = async (rel: string, parentHasDir: boolean, listed: boolean): Promise<void> => {
    const start = changes.length;
    const ours = await namesIn(join(layer, rel));
    const theirs = parent && parentHasDir ? await namesIn(join(parent, rel)) : [];
    const present = new Set(ours);
    for (const name of [...new Set([...ours, ...theirs])].sort()) {
      const path = rel === '/' ? `/${name}` : `${rel}/${name}`;
      if (!present.has(name)) {
        changes.push({ path, kind: 'delete' });
        continue;
      }
      const now = await lstat(join(layer, path), { bigint: true });
      const before = parent && parentHasDir ? await statOrNull(join(parent, path)) : null;
      let kind: Change['kind'] | undefined;
      if (!before) kind = 'add';
      else if (differs(before, now) || ourXattrs.get(path) !== theirXattrs.get(path)) kind = 'modify';
      if (kind) changes.push({ path, kind });
      if (now.isDirectory()) await walk(path, before?.isDirectory() ?? false, kind !== undefined);
    }
    if (changes.length > start && !listed && rel !== '/') changes.splice(start, 0, { path: rel, kind: 'modify' });
  };
  await walk('/', true, true);
  return changes;
}

/** Bytes of the regular files a set of changes adds or rewrites (hard links counted once). */
export async function changesSize(layer: string, changes: Change[]): Promise<number> {
  const seen = new Set<bigint>();
  let size = 0;
  for (const c of changes) {
    if (c.kind === 'delete') continue;
    const st = await lstat(join(layer, c.path), { bigint: true });
    if (!st.isFile() || seen.has(st.ino)) continue;
    seen.add(st.ino);
    size += Number(st.size);
  }
  return size;
}
