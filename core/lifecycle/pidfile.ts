// The pid file: claimed exclusively (a live holder stops us, a stale one is replaced).
import { link, mkdir, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { configError } from '../errors.js';
import { writeTemp } from '../fs/atomic-write.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err: any) {
    return err.code === 'EPERM';
  }
}

async function readPid(path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(path, 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function claimPidFile(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  // Complete before it is linked into place, but not fsynced: a pid file is run-time state (on
  // /run), and one a crash left empty or stale is replaced below. The fsync cost start-up 2-5 ms.
  const tmp = await writeTemp(path, `${process.pid}`, 0o644, false);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        // link() fails if the name exists: an atomic, exclusive claim of a complete file.
        await link(tmp, path);
        return;
      } catch (err: any) {
        if (err.code !== 'EEXIST') throw err;
      }
      const pid = await readPid(path);
      if (pid !== undefined && pid !== process.pid && alive(pid)) {
        throw configError(`pid file found, ensure berthd is not running or delete ${path}: process with PID ${pid} is still running`);
      }
      await unlink(path).catch(() => {});
    }
    throw configError(`cannot claim pid file ${path}: another process keeps replacing it`);
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/** Removes the pid file if it is still ours. */
export async function releasePidFile(path: string): Promise<void> {
  if ((await readPid(path)) === process.pid) await unlink(path).catch(() => {});
}
