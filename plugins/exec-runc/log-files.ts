// A container log and its rotated files, as dockerd's json-file names them: `<log>.1` is the
// newest rotated file, `<log>.N` the oldest. Rotation renames them here and then asks conmon to
// reopen its log; readers and the rotation take one in-process lock so a reader never opens the
// set half-renamed.
import { constants } from 'node:fs';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { isMissing } from '../../lib/host-cmd.js';

/** Far above any max-file in use: the scan for rotated files stops at the first gap anyway. */
const MAX_ROTATED = 10_000;

const locks = new Map<string, Promise<unknown>>();

/** Runs fn with the log's lock held (rotation vs. a reader opening the files). */
export async function withLogLock<T>(logPath: string, fn: () => Promise<T>): Promise<T> {
  const before = locks.get(logPath) ?? Promise.resolve();
  const run = before.catch(() => {}).then(fn);
  const settled = run.catch(() => {});
  locks.set(logPath, settled);
  try {
    return await run;
  } finally {
    if (locks.get(logPath) === settled) locks.delete(logPath);
  }
}

export const rotatedPath = (logPath: string, n: number) => `${logPath}.${n}`;

/** The log's files that exist, oldest first: `<log>.N` … `<log>.1`, then `<log>`. Call under the lock. */
export async function logFilePaths(logPath: string): Promise<string[]> {
  const rotated: string[] = [];
  for (let n = 1; n <= MAX_ROTATED; n++) {
    const p = rotatedPath(logPath, n);
    if (!(await exists(p))) break;
    rotated.push(p);
  }
  const all = rotated.reverse();
  if (await exists(logPath)) all.push(logPath);
  return all;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, (err) => (isMissing(err) ? false : Promise.reject(err)));
}

export interface OpenLogFile {
  fh: FileHandle;
  ino: number;
  size: number;
}

/** Opens a file of the log, or null when it is gone. */
export async function openLogFile(path: string): Promise<OpenLogFile | null> {
  const fh = await open(path, 'r').catch((err) => (isMissing(err) ? null : Promise.reject(err)));
  if (!fh) return null;
  const st = await fh.stat();
  return { fh, ino: st.ino, size: st.size };
}

/** Opens every file of the log at once (oldest first), so a rotation after this changes nothing read. */
export function openLogFiles(logPath: string): Promise<OpenLogFile[]> {
  return withLogLock(logPath, async () => {
    const files: OpenLogFile[] = [];
    for (const p of await logFilePaths(logPath)) {
      const f = await openLogFile(p);
      if (f) files.push(f);
    }
    return files;
  });
}

/**
 * The file that follows the one with inode `ino` (which a follower has read to its end): the next
 * newer one, or the oldest kept when `ino` itself was dropped. Null when `ino` is the newest.
 */
export function openNextLogFile(logPath: string, ino: number): Promise<OpenLogFile | null> {
  return withLogLock(logPath, async () => {
    const paths = await logFilePaths(logPath);
    const inodes = await Promise.all(paths.map((p) => stat(p).then((s) => s.ino, () => -1)));
    const at = inodes.indexOf(ino);
    const next = at < 0 ? 0 : at + 1;
    return next < paths.length ? openLogFile(paths[next]) : null;
  });
}

/**
 * dockerd's rotation: drop `<log>.<maxFiles-1>`, move each `<log>.i` to `<log>.<i+1>`, the log to
 * `<log>.1`; then `reopen` has the monitor start a new log (conmon keeps writing to the renamed
 * file until then, so nothing is lost). With maxFiles 1 the monitor just replaces the log.
 */
export async function rotateLogFiles(logPath: string, maxFiles: number, reopen: () => Promise<void>): Promise<void> {
  if (maxFiles >= 2) {
    await withLogLock(logPath, async () => {
      await unlink(rotatedPath(logPath, maxFiles - 1)).catch(ignoreMissing);
      for (let i = maxFiles - 1; i > 1; i--) await rename(rotatedPath(logPath, i - 1), rotatedPath(logPath, i)).catch(ignoreMissing);
      await rename(logPath, rotatedPath(logPath, 1)).catch(ignoreMissing);
    });
  }
  await reopen();
}

function ignoreMissing(err: unknown): void {
  if (!isMissing(err)) throw err;
}

/**
 * Asks conmon to reopen its log: message 2 (REOPEN_LOGS_EVENT) on the `ctl` FIFO in the bundle,
 * as "type height width\n" (conmon src/ctrl.c). conmon then writes a new file at the log path.
 * A FIFO with no conmon behind it (ENXIO, ENOENT) means the container has ended: nothing to do.
 */
export async function reopenConmonLog(bundle: string): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(join(bundle, 'ctl'), constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENXIO' || code === 'ENOENT') return;
    throw err;
  }
  try {
    await fh.write('2 0 0\n');
  } finally {
    await fh.close();
  }
}
