// A layer's changes read from its own diff dir, as dockerd's "native overlay diff": nothing
// but the layer's own files is walked. A 0/0 character device is a whiteout (a deletion); a
// folder with trusted.overlay.opaque=y hides everything its parents had in it.
import type { BigIntStats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PackEntry } from '../../lib/archive/index.js';
import type { Change } from '../graph/index.js';
import { namesIn, statOrNull } from '../../lib/host-cmd.js';
import { opaqueDirs } from './opaque-dirs.js';

const childPath = (rel: string, name: string) => (rel === '/' ? `/${name}` : `${rel}/${name}`);

export const isWhiteout = (st: BigIntStats) => st.isCharacterDevice() && st.rdev === 0n;



// A folder is copied up whenever something below it changes; only a chmod or chown makes the
// folder itself modified (its size and mtime say nothing, as in dockerd's ChangesDirs).
const folderDiffers = (upper: BigIntStats, lower: BigIntStats) =>
  upper.mode !== lower.mode || upper.uid !== lower.uid || upper.gid !== lower.gid;

/**
 * Changes of the layer whose own content is `upper`, against `lowerView`, the merged view of its
 * parents (null for a base layer). A folder with a change below it is listed as modified too.
 */
export async function upperChanges(upper: string, lowerView: string | null): Promise<Change[]> {
  const changes: Change[] = [];
  const opaque = lowerView === null ? new Set<string>() : await opaqueDirs(upper);
  const walk = async (rel: string, lowerHasDir: boolean, listed: boolean): Promise<void> => {
    const start = changes.length;
    const lower = lowerView !== null && lowerHasDir ? lowerView : null;
    const ours = await namesIn(join(upper, rel));
    // Children of an opaque folder that only the parents had are deleted, one by one.
    const hidden = lower && opaque.has(rel) ? await namesIn(join(lower, rel)) : [];
    const present = new Set(ours);
    for (const name of [...new Set([...ours, ...hidden])].sort()) {
      const path = childPath(rel, name);
      const before = lower ? await statOrNull(join(lower, path)) : null;
      if (!present.has(name)) {
        changes.push({ path, kind: 'delete' });
        continue;
      }
      const now = await lstat(join(upper, path), { bigint: true });
      if (isWhiteout(now)) {
        if (before) changes.push({ path, kind: 'delete' });
        continue;
      }
      let kind: Change['kind'] | undefined = 'modify';
      if (!before) kind = 'add';
      else if (now.isDirectory() && before.isDirectory() && !folderDiffers(now, before)) kind = undefined;
      if (kind) changes.push({ path, kind });
      if (now.isDirectory()) await walk(path, before?.isDirectory() ?? false, kind !== undefined);
    }
    if (changes.length > start && !listed && rel !== '/') changes.splice(start, 0, { path: rel, kind: 'modify' });
  };
  await walk('/', true, true);
  return changes;
}

/** Every entry of the diff dir for the layer tar: whiteouts as such, opaque folders marked. */
export async function upperEntries(upper: string): Promise<PackEntry[]> {
  const entries: PackEntry[] = [];
  const opaque = await opaqueDirs(upper);
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(upper, rel))).sort()) {
      const path = childPath(rel, name);
      const st = await lstat(join(upper, path), { bigint: true });
      if (isWhiteout(st)) {
        entries.push({ path, kind: 'whiteout' });
        continue;
      }
      entries.push({ path, kind: 'entry' });
      if (!st.isDirectory()) continue;
      if (opaque.has(path)) entries.push({ path, kind: 'opaque' });
      await walk(path);
    }
  };
  if (opaque.has('/')) entries.push({ path: '/', kind: 'opaque' });
  await walk('/');
  return entries.map((e) => ({ ...e, path: e.path.slice(1) }));
}

/** Bytes of the regular files in the diff dir (hard links counted once), dockerd's diffSize. */
export async function upperSize(upper: string): Promise<number> {
  const seen = new Set<bigint>();
  let size = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        const st = await lstat(path, { bigint: true });
        if (seen.has(st.ino)) continue;
        seen.add(st.ino);
        size += Number(st.size);
      }
    }
  };
  await walk(upper);
  return size;
}
