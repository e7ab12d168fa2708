// A data root on a small tmpfs that a test can fill to the brim (blocks and inodes) and free again:
// the real part for "no space left on device". Unmounted at cleanup, even after a failure.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface SmallDisk {
  path: string;
  /** Fills every free block and inode (files under .fill); with `leaveBytes`, only blocks, leaving that much. */
  fill: (leaveBytes?: number) => void;
  /** Removes what fill wrote. */
  free: () => void;
  /** Unmounts (mounts left under it first); safe to call twice. */
  unmount: () => void;
}

/** Mounts a tmpfs of `sizeMb` MB (and `inodes` inodes) on `path`, made if missing. */
export function mountSmallDisk(path: string, sizeMb = 64, inodes = 4096): SmallDisk {
  mkdirSync(path, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,nr_inodes=${inodes},mode=0700`, 'tmpfs', path]);
  let mounted = true;
  const fillDir = () => join(path, '.fill');
  return {
    path,
    fill(leaveBytes = 0) {
      mkdirSync(fillDir(), { recursive: true });
      const st = statfsSync(path);
      const avail = st.bavail * st.bsize - leaveBytes;
      if (avail > 0) {
        try {
          execFileSync('fallocate', ['-l', String(avail), join(fillDir(), `blocks-${Date.now()}`)]);
        } catch { /* what is left is taken page by page below */ }
      }
      if (leaveBytes > 0) return;
      // The last pages and then every inode: small files until the file system refuses.
      const page = Buffer.alloc(4096, 1);
      for (let i = 0; i < 100_000; i++) {
        let fd: number;
        try {
          fd = openSync(join(fillDir(), `f${i}`), 'w');
        } catch {
          break; // no inode left
        }
        try { writeSync(fd, page); } catch { /* no block left: the empty file still takes an inode */ }
        closeSync(fd);
      }
    },
    free() {
      rmSync(fillDir(), { recursive: true, force: true });
    },
    unmount() {
      if (!mounted) return;
      unmountUnder(path);
      try {
        execFileSync('umount', [path]);
      } catch {
        execFileSync('umount', ['-l', path]);
      }
      mounted = false;
    },
  };
}

/** Unmounts what is mounted under `dir` (a crashed daemon's overlay mounts, netns binds), deepest first. */
export function unmountUnder(dir: string): void {
  const inside = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4]).filter((p) => p && p.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length);
  for (const p of inside) {
    try { execFileSync('umount', [p]); } catch { execFileSync('umount', ['-l', p]); }
  }
}

/** Names in a folder, none if it does not exist. */
export function namesIn(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
