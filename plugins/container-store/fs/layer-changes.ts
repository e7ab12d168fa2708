// A container's own changes (docker diff, docker commit): its read-write layer against its image,
// without what the runtime itself made there to mount over. dockerd keeps those in an "-init"
// layer under the container's, so neither docker diff nor docker commit ever shows them.
import type { Change } from '../../graph/index.js';
import type { PackEntry } from '../../../lib/archive/index.js';

const RUNTIME_PATHS = new Set([
  '/proc', '/sys', '/dev', '/dev/pts', '/dev/shm', '/dev/console',
  '/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/etc/mtab', '/.dockerenv',
]);

const isBelow = (path: string, dir: string) => path.startsWith(`${dir}/`);

/**
 * Drops the runtime's mount points (kept, as modified, when the user changed something below
 * them) and the folders listed as modified only because of them.
 */
export function containerChanges(changes: Change[]): Change[] {
  const dropped: string[] = [];
  const kept: Change[] = [];
  for (const c of changes) {
    if (!RUNTIME_PATHS.has(c.path)) {
      kept.push(c);
      continue;
    }
    const userBelow = changes.some((o) => isBelow(o.path, c.path) && !RUNTIME_PATHS.has(o.path));
    if (userBelow) kept.push({ path: c.path, kind: c.kind === 'add' ? 'modify' : c.kind });
    else dropped.push(c.path);
  }
  // Deepest first, so a parent sees whether its children stayed.
  const out = new Set(kept);
  for (const c of [...kept].reverse()) {
    if (c.kind === 'delete' || !dropped.some((d) => isBelow(d, c.path))) continue;
    if (![...out].some((o) => isBelow(o.path, c.path))) out.delete(c);
  }
  return kept.filter((c) => out.has(c));
}

/** The changes as archive entries: what exists is packed, what was deleted becomes a whiteout. */
export function changeEntries(changes: Change[]): PackEntry[] {
  return changes.map((c) => ({ path: c.path.slice(1), kind: c.kind === 'delete' ? 'whiteout' : 'entry' }));
}

/** GET /containers/{id}/changes: Kind 0 modified, 1 added, 2 deleted. */
export function changesView(changes: Change[]): { Path: string; Kind: number }[] {
  const kinds = { modify: 0, add: 1, delete: 2 } as const;
  return changes.map((c) => ({ Path: c.path, Kind: kinds[c.kind] }));
}
