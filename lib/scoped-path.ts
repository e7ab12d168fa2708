// Resolves a path inside a root file system the way the kernel would if the root were "/":
// symlinks (absolute or relative) and ".." never lead out of it (moby's FollowSymlinkInScope).
import { constants } from 'node:fs';
import { lstat, open, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isMissing } from './host-cmd.js';

const MAX_LINKS = 255;

export async function resolveInRoot(root: string, path: string): Promise<string> {
  return join(root, ...(await resolveParts(path, (parts) => join(root, ...parts))));
}

/**
 * The components of `path` with every symlink and ".." resolved inside the root; `hostOf` says
 * where resolved components are on the host (a container's bind mounts map some elsewhere).
 */
export async function resolveParts(path: string, hostOf: (parts: string[]) => string): Promise<string[]> {
  let pending = path.split('/').filter(Boolean);
  const done: string[] = [];
  let links = 0;
  while (pending.length) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const host = hostOf([...done, part]);
    const st = await lstat(host).catch((err) => (isMissing(err) ? null : Promise.reject(err)));
    if (st?.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw new Error(`resolving ${path}: too many symbolic links`);
      const target = await readlink(host);
      if (target.startsWith('/')) done.length = 0;
      pending = [...target.split('/').filter(Boolean), ...pending];
      continue;
    }
    done.push(part);
  }
  return done;
}

/** Reads a file of the root file system, or null when it does not exist there. */
export async function readFileInRoot(root: string, path: string): Promise<string | null> {
  const host = await resolveInRoot(root, path);
  try {
    // O_NOFOLLOW: the last component was resolved above; a symlink swapped in since is refused.
    const fh = await open(host, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      return await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}
