// Can overlay work under this root? A real mount of two lowers, an upper and a work dir in a
// scratch folder under the root tells: the kernel, the backing file system and our privileges.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { messageOf } from '../../core/plugin-api.js';
import { backingFs } from '../../lib/host-cmd.js';
import { mountOverlay, unmount } from './mounts.js';
import { runCommand } from '../../lib/host-cmd.js';

/** Scratch folders start with a dot, which no layer id can: open() removes any a crash left. */
export const PROBE_PREFIX = '.probe-';

// overlayfs only warns when the upper lacks d_type, then shows deleted files again. The one
// common case is xfs formatted with ftype=0 (node cannot see d_type itself: it stats instead).
async function dtypeProblem(root: string, fs: string): Promise<string | null> {
  if (fs !== 'xfs') return null;
  try {
    const info = await runCommand('xfs_info', [root]);
    return /ftype=0/.test(info) ? 'the backing xfs file system is formatted without d_type support (ftype=0); reformat it with ftype=1' : null;
  } catch {
    return null; // no xfs_info: trust the file system
  }
}

export async function probeOverlay(root: string): Promise<{ ok: boolean; reason: string }> {
  try {
    await mkdir(root, { recursive: true, mode: 0o710 });
  } catch (err) {
    return { ok: false, reason: `cannot create ${root}: ${messageOf(err)}` };
  }
  const fs = await backingFs(root).catch(() => 'an unknown file system');
  const noDtype = await dtypeProblem(root, fs);
  if (noDtype) return { ok: false, reason: noDtype };
  const dir = await mkdtemp(join(root, PROBE_PREFIX));
  try {
    for (const d of ['lower1', 'lower2', 'upper', 'work', 'merged']) await mkdir(join(dir, d));
    await writeFile(join(dir, 'lower2', 'probe'), 'overlay probe\n');
    try {
      await mountOverlay(dir, 'merged', { lowers: ['lower1', 'lower2'], upper: 'upper', work: 'work' });
    } catch (err) {
      return { ok: false, reason: `overlay mount failed on ${fs}: ${messageOf(err)}` };
    }
    try {
      if (!(await readdir(join(dir, 'merged'))).includes('probe')) {
        return { ok: false, reason: `overlay mount on ${fs} does not show its lower layer` };
      }
    } finally {
      await unmount(join(dir, 'merged'));
    }
    return { ok: true, reason: `overlay mount works on ${fs}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
