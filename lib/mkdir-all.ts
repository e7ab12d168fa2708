// mkdir -p that reports what the file system said. Node 20's recursive fs.promises.mkdir answers
// ENOENT ("no such file or directory, mkdir '<first missing folder>'") where the file system
// refused with ENOSPC (no block or inode left): a full data root then looked like a missing one.
import { access, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

const exists = (p: string) => access(p).then(() => true, () => false);

export async function mkdirAll(path: string, mode?: number): Promise<void> {
  try {
    await mkdir(path, { recursive: true, mode });
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  // The missing folders one by one, from the top: the first that fails throws the real error.
  const missing: string[] = [];
  for (let p = path; p !== dirname(p) && !(await exists(p)); p = dirname(p)) missing.unshift(p);
  for (const p of missing) {
    await mkdir(p, { mode }).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'EEXIST') throw err; });
  }
}
