// Can overlay work under this root? A real mount of two lowers, an upper and a work dir in a
// scratch folder under the root tells: the kernel, the backing file system and our privileges.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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

const NO_SPACE = new Set(['ENOSPC', 'EDQUOT']);

/** Layers an earlier run left under the root (64-hex folders): overlay was working here. */
async function priorLayers(root: string): Promise<number> {
  return (await readdir(root).catch(() => [] as string[])).filter((n) => /^[a-f0-9]{64}$/.test(n)).length;
}

/**
 * The probe could not write its scratch files because the file system is full. Start-up must not
 * die of it (the operator needs the API to free space): a root that already holds overlay layers,
 * on a kernel that has overlay, is taken as working, as dockerd keeps its prior driver; a fresh
 * root is refused, and the next driver is tried.
 */
async function decideWithoutWriting(root: string, fs: string, err: unknown): Promise<{ ok: boolean; reason: string }> {
  const why = `the probe cannot write under ${root}: ${messageOf(err)}`;
  const kernel = await readFile('/proc/filesystems', 'utf8').then((t) => /\boverlay\b/.test(t), () => false);
  const layers = await priorLayers(root);
  if (kernel && layers > 0) return { ok: true, reason: `${why}; kept, as ${root} holds ${layers} overlay layers on ${fs} and the kernel has overlay` };
  return { ok: false, reason: why };
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
  let dir: string;
  try {
    dir = await mkdtemp(join(root, PROBE_PREFIX));
  } catch (err) {
    if (NO_SPACE.has((err as NodeJS.ErrnoException).code ?? '')) return decideWithoutWriting(root, fs, err);
    return { ok: false, reason: `cannot create a probe folder under ${root}: ${messageOf(err)}` };
  }
  try {
    try {
      for (const d of ['lower1', 'lower2', 'upper', 'work', 'merged']) await mkdir(join(dir, d));
      // An empty file: it needs no data block, so the probe also works on a full file system.
      await writeFile(join(dir, 'lower2', 'probe'), '');
    } catch (err) {
      if (NO_SPACE.has((err as NodeJS.ErrnoException).code ?? '')) return await decideWithoutWriting(root, fs, err);
      return { ok: false, reason: `cannot prepare the probe in ${dir}: ${messageOf(err)}` };
    }
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
