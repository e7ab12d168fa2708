// Content hashes of context paths for the builder's COPY/ADD cache keys, in the spirit of dockerd's
// tarsum (version 1): type, mode, uid, gid, size, symlink target, content and names — never times.
// A folder's hash covers its whole tree, entries in name order; the same tree gives the same hash.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Stats } from 'node:fs';
import { resolveParts } from '../../../lib/scoped-path.js';
import { notFound } from '../../../core/plugin-api.js';
import { cleanRel } from './dockerignore.js';

function kindOf(st: Stats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'other';
}

const SMALL_FILE = 1 << 20;

async function fileDigest(path: string, size: number): Promise<string> {
  const h = createHash('sha256');
  if (size <= SMALL_FILE) h.update(await readFile(path));
  else for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Children hashed this many at a time: a context of many small files is mostly waiting on I/O. */
const PARALLEL = 32;

/** Hashes paths under one root, remembering each answer (a context does not change once open). */
export class ContentHasher {
  private readonly memo = new Map<string, Promise<string>>();
  constructor(private readonly root: string) {}

  /**
   * `sha256:<hex>` of the file, symlink (itself, not its target) or folder tree at `rel`; its
   * parent folders are resolved inside the root as dockerd resolves context paths.
   */
  async hashPath(rel: string): Promise<string> {
    const parts = await resolveParts(cleanRel(rel) === '.' ? '' : cleanRel(rel), (p) => join(this.root, ...p));
    // resolveParts follows a final symlink too; hash what the path itself names when it is one.
    const direct = cleanRel(rel).split('/').filter((p) => p !== '.');
    const key = await this.isLink(direct) ? direct.join('/') : parts.join('/');
    return this.hashAt(key);
  }

  private async isLink(parts: string[]): Promise<boolean> {
    if (parts.length === 0) return false;
    const parent = await resolveParts(parts.slice(0, -1).join('/'), (p) => join(this.root, ...p));
    const st = await lstat(join(this.root, ...parent, parts.at(-1)!)).catch(() => null);
    return !!st?.isSymbolicLink();
  }

  private hashAt(rel: string): Promise<string> {
    let p = this.memo.get(rel);
    if (!p) {
      p = this.compute(rel);
      this.memo.set(rel, p);
    }
    return p;
  }

  private async compute(rel: string): Promise<string> {
    const full = join(this.root, rel);
    const st = await lstat(full).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw notFound(`${rel || '.'}: no such file or directory in the build context`);
      throw err;
    });
    const h = createHash('sha256');
    const kind = kindOf(st);
    h.update(`${kind} ${(st.mode & 0o7777).toString(8)} ${st.uid} ${st.gid}`);
    if (kind === 'file') h.update(` ${st.size} ${await fileDigest(full, st.size)}`);
    else if (kind === 'symlink') h.update(` ${await readlink(full)}`);
    else if (kind === 'char' || kind === 'block') h.update(` ${st.rdev}`);
    else if (kind === 'dir') {
      const names = (await readdir(full)).sort();
      const children: string[] = [];
      for (let i = 0; i < names.length; i += PARALLEL) {
        const batch = names.slice(i, i + PARALLEL);
        children.push(...await Promise.all(batch.map((name) => this.hashAt(rel ? `${rel}/${name}` : name))));
      }
      names.forEach((name, i) => h.update(`\n${JSON.stringify(name)} ${children[i]}`));
    }
    return `sha256:${h.digest('hex')}`;
  }
}
