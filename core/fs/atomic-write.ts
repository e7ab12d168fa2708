// State is written atomically: temp file in the same folder, fsync, rename, fsync the folder.
// A crash leaves either the old file or the new one, never half of one.
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A write's error names the file it was for (a bare "ENOSPC: …, write" tells an operator nothing). */
function naming(err: unknown, path: string): unknown {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && e.code && !e.path) {
    e.path = path;
    e.message = `${e.message} '${path}'`;
  }
  return err;
}

export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

export async function fsyncDir(dir: string): Promise<void> {
  const fd = await open(dir, 'r');
  try { await fd.sync(); } finally { await fd.close(); }
}

/** Writes data to a fresh temp file and fsyncs it (unless not durable); the caller moves it into place. */
export async function writeTemp(path: string, data: string | Uint8Array, mode = 0o600, durable = true): Promise<string> {
  const tmp = tempPathFor(path);
  const fd = await open(tmp, 'wx', mode);
  try {
    await fd.writeFile(data);
    if (durable) await fd.sync();
  } catch (err) {
    await fd.close();
    await unlink(tmp).catch(() => {});
    throw naming(err, path);
  }
  await fd.close();
  return tmp;
}

/**
 * Writes several new files into a folder nobody else sees yet (a staging folder renamed into place
 * later): each is written and fsynced, all at once, then the folder itself is fsynced.
 */
export async function writeFilesDurably(dir: string, files: Record<string, string | Uint8Array>, mode = 0o600): Promise<void> {
  await Promise.all(Object.entries(files).map(async ([name, data]) => {
    const fd = await open(join(dir, name), 'wx', mode);
    try {
      await fd.writeFile(data);
      await fd.sync();
    } catch (err) {
      throw naming(err, join(dir, name));
    } finally {
      await fd.close();
    }
  }));
  await fsyncDir(dir);
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const tmp = await writeTemp(path, data, mode);
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw naming(err, path);
  }
  await fsyncDir(dirname(path));
}
