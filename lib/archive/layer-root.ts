// The target folder of an extraction, reached one component at a time with lstat: a path that
// passes through a symlink is refused, never followed, so nothing outside the target is touched.
// This relies on nothing else changing the target while it is extracted (a private layer folder);
// it is not a defence against a concurrent writer (that needs openat2 or a chroot).
import type { Stats } from 'node:fs';
import { refuse } from './entry-path.js';
import { asyncFs, type FsOps } from './fs-ops.js';

export class LayerRoot {
  /** Relative paths known to be real directories (not symlinks) during this extraction. */
  private readonly dirs = new Set<string>(['']);
  private readonly removedListeners: ((rel: string, wasDir: boolean) => void)[] = [];
  private readonly createdListeners: ((rel: string) => void)[] = [];

  constructor(readonly target: string, readonly fs: FsOps = asyncFs) {}

  async lstatOrNull(path: string): Promise<Stats | null> {
    try {
      return await this.fs.lstat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  full(rel: string): string {
    return rel === '' ? this.target : `${this.target}/${rel}`;
  }

  onRemoved(listener: (rel: string, wasDir: boolean) => void): void {
    this.removedListeners.push(listener);
  }

  onCreated(listener: (rel: string) => void): void {
    this.createdListeners.push(listener);
  }

  /** Makes every component of `parts` a real directory, creating missing ones (0755, like dockerd). */
  async ensureDir(parts: string[], entry: string): Promise<void> {
    let rel = '';
    for (const part of parts) {
      rel = rel === '' ? part : `${rel}/${part}`;
      if (this.dirs.has(rel)) continue;
      const st = await this.lstatOrNull(this.full(rel));
      if (!st) {
        await this.fs.mkdir(this.full(rel), 0o755);
        for (const listener of this.createdListeners) listener(rel);
      } else if (st.isSymbolicLink()) {
        throw refuse(entry, `parent ${JSON.stringify(rel)} is a symlink: writing through it could leave the layer`);
      } else if (!st.isDirectory()) {
        throw refuse(entry, `parent ${JSON.stringify(rel)} is not a directory`);
      }
      this.dirs.add(rel);
    }
  }

  /**
   * Whether every component of `parts` exists as a real directory, creating nothing. A symlink
   * on the way is refused; `what` says whose path it is in the message.
   */
  async dirExists(parts: string[], entry: string, what = 'parent'): Promise<boolean> {
    let rel = '';
    for (const part of parts) {
      rel = rel === '' ? part : `${rel}/${part}`;
      if (this.dirs.has(rel)) continue;
      const st = await this.lstatOrNull(this.full(rel));
      if (!st) return false;
      if (st.isSymbolicLink()) throw refuse(entry, `${what} ${JSON.stringify(rel)} is a symlink: following it could leave the layer`);
      if (!st.isDirectory()) return false;
      this.dirs.add(rel);
    }
    return true;
  }

  /** Re-checks, without the cache, that no component above `rel` is a symlink (before deferred work). */
  async stillInside(rel: string): Promise<boolean> {
    const parts = rel === '' ? [] : rel.split('/');
    let path = this.target;
    for (const part of parts.slice(0, -1)) {
      path = `${path}/${part}`;
      const st = await this.lstatOrNull(path);
      if (!st || !st.isDirectory()) return false;
    }
    return true;
  }

  markDir(rel: string): void {
    this.dirs.add(rel);
  }

  /** Removes what is at `rel` (a directory with everything in it; a symlink itself, never its target). */
  async remove(rel: string, st: Stats): Promise<void> {
    const wasDir = st.isDirectory();
    if (wasDir) {
      await this.fs.rmTree(this.full(rel));
      for (const known of [...this.dirs]) if (known === rel || known.startsWith(`${rel}/`)) this.dirs.delete(known);
    } else {
      await this.fs.unlink(this.full(rel));
    }
    for (const listener of this.removedListeners) listener(rel, wasDir);
  }
}
