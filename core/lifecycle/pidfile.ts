// The pid file: claimed exclusively (a live holder stops us, a stale one is replaced).
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { configError } from '../errors.js';
import { tempPathFor } from '../fs/atomic-write.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err: any) {
    return err.code === 'EPERM';
  }
}

const parsePid = (text: string) => {
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
};

async function readPid(path: string): Promise<number | undefined> {
  return readFile(path, 'utf8').then(parsePid, () => undefined);
}

function readPidSync(path: string): number | undefined {
  try {
    return parsePid(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Synchronous: it runs once, at start, before the API listens (nothing waits on the event loop),
 * and its six file operations through the thread pool cost the start-up 2-3 ms of round trips.
 */
export function claimPidFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  // Complete before it is linked into place, but not fsynced: a pid file is run-time state (on
  // /run), and one a crash left empty or stale is replaced below. The fsync cost start-up 2-5 ms.
  const tmp = tempPathFor(path);
  writeFileSync(tmp, `${process.pid}`, { mode: 0o644, flag: 'wx' });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        // link() fails if the name exists: an atomic, exclusive claim of a complete file.
        linkSync(tmp, path);
        return;
      } catch (err: any) {
        if (err.code !== 'EEXIST') throw err;
      }
      const pid = readPidSync(path);
      if (pid !== undefined && pid !== process.pid && alive(pid)) {
        throw configError(`pid file found, ensure berthd is not running or delete ${path}: process with PID ${pid} is still running`);
      }
      try { unlinkSync(path); } catch { /* gone already */ }
    }
    throw configError(`cannot claim pid file ${path}: another process keeps replacing it`);
  } finally {
    try { unlinkSync(tmp); } catch { /* not there */ }
  }
}

/** Removes the pid file if it is still ours. */
export async function releasePidFile(path: string): Promise<void> {
  if ((await readPid(path)) === process.pid) await unlink(path).catch(() => {});
}
