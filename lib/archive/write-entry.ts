// Writes one tar entry into the layer folder. Never follows a symlink: parents are checked by
// LayerRoot, files are opened O_NOFOLLOW|O_CREAT|O_EXCL after removing what was there, and
// ownership and times use the l* calls. Directory times and xattrs are deferred (see Pending).
import { constants, type Stats } from 'node:fs';
import { BerthError } from '../../core/plugin-api.js';
import { layerPathParts, refuse, whiteoutOf } from './entry-path.js';
import { isPlainXattrName, makeDevice, makeFifo } from './fs-tools.js';
import type { FsOps, OpenFile } from './fs-ops.js';
import type { LayerRoot } from './layer-root.js';
import type { TarEntry, TarHeader } from './tar-reader.js';

/** 'none': a plain archive (a build context): `.wh.` names are ordinary files. */
export type WhiteoutMode = 'overlay' | 'delete' | 'none';

/** Work done after every entry is written, forgotten for paths a later entry removes. */
export class Pending {
  readonly dirTimes = new Map<string, number>();
  readonly xattrs = new Map<string, Map<string, Buffer>>();
  /** Paths this layer wrote (delete mode: an opaque directory keeps them). */
  readonly unpacked = new Set<string>();
  /** Finishing work on open files (owner, mode, times, close), overlapped with the next entries. */
  private inflight: Promise<void>[] = [];

  constructor(root: LayerRoot, private readonly trackUnpacked: boolean) {
    root.onRemoved((rel, wasDir) => this.forget(rel, wasDir));
    root.onCreated((rel) => this.wrote(rel));
  }

  wrote(rel: string): void {
    if (!this.trackUnpacked) return;
    // Ancestors too: an opaque directory must keep the folders leading to this layer's files.
    for (let path = rel; path !== '' && !this.unpacked.has(path); path = path.slice(0, Math.max(0, path.lastIndexOf('/')))) {
      this.unpacked.add(path);
    }
  }

  /**
   * Lets file-descriptor work run while the next entries are read: it touches only the inode the
   * descriptor holds, so no later entry can redirect it. At most a batch is kept in flight.
   */
  async defer(work: Promise<void>): Promise<void> {
    this.inflight.push(work);
    if (this.inflight.length >= 32) await this.settle();
  }

  /** Waits for all deferred work; the first failure is thrown once all have ended. */
  async settle(): Promise<void> {
    const batch = this.inflight;
    this.inflight = [];
    const results = await Promise.allSettled(batch);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  addXattr(rel: string, name: string, value: Buffer): void {
    let forPath = this.xattrs.get(rel);
    if (!forPath) this.xattrs.set(rel, (forPath = new Map()));
    forPath.set(name, value);
  }

  private forget(rel: string, wasDir: boolean): void {
    for (const map of [this.dirTimes, this.xattrs]) {
      map.delete(rel);
      if (wasDir) for (const key of [...map.keys()]) if (key.startsWith(`${rel}/`)) map.delete(key);
    }
  }
}

// An archive may not forge overlayfs' own metadata or SELinux labels (the runtime sets those).
const SKIPPED_XATTRS = [/^trusted\.overlay\./, /^user\.overlay\./, /^security\.selinux$/];

export interface EntryContext {
  root: LayerRoot;
  pending: Pending;
  whiteouts: WhiteoutMode;
  noOverwriteDirNonDir?: boolean;
}

/** Applies one entry; returns the bytes of file content written. */
export async function writeEntry(entry: TarEntry, ctx: EntryContext): Promise<number> {
  const { header } = entry;
  const name = header.path;
  const parts = layerPathParts(name);
  const whiteout = ctx.whiteouts === 'none' ? { kind: 'none' as const } : whiteoutOf(name, parts);
  const parent = parts.slice(0, -1);
  const rel = parts.join('/');
  const { root, pending } = ctx;
  const { fs } = root;

  if (whiteout.kind === 'meta') return 0;
  if (whiteout.kind === 'opaque') {
    await root.ensureDir(parent, name);
    if (ctx.whiteouts === 'overlay') pending.addXattr(parent.join('/'), 'trusted.overlay.opaque', Buffer.from('y'));
    else await clearOpaque(parent.join('/'), ctx);
    return 0;
  }
  if (whiteout.kind === 'whiteout') {
    const hidden = [...parent, whiteout.name].join('/');
    if (ctx.whiteouts === 'delete') {
      if (!(await root.dirExists(parent, name))) return 0;
      const st = await root.lstatOrNull(root.full(hidden));
      if (st) await root.remove(hidden, st);
      return 0;
    }
    await root.ensureDir(parent, name);
    await replace(hidden, ctx);
    // overlayfs' whiteout: a 0/0 character device with the name it hides.
    await makeDevice(root.full(hidden), 'c', 0, 0);
    await fs.lchown(root.full(hidden), header.uid, header.gid);
    return 0;
  }

  if (header.sparse) throw refuse(name, 'sparse files are not supported');
  if (parts.length === 0) {
    if (header.kind !== 'dir') throw refuse(name, 'only a directory may name the layer root');
    await setOwnerAndMode(fs, root.full(''), header, false);
    pending.dirTimes.set('', header.mtime);
    return 0;
  }
  await root.ensureDir(parent, name);
  const path = root.full(rel);
  if (ctx.noOverwriteDirNonDir) await checkDirNonDir(root, path, rel, header);
  let written = 0;
  switch (header.kind) {
    case 'dir': {
      const existing = await root.lstatOrNull(path);
      if (existing && !existing.isDirectory()) await root.remove(rel, existing);
      if (!existing || !existing.isDirectory()) await fs.mkdir(path, 0o700);
      root.markDir(rel);
      await setOwnerAndMode(fs, path, header, false);
      pending.dirTimes.set(rel, header.mtime);
      break;
    }
    case 'file': {
      written = await writeFile(fs, path, entry, () => replace(rel, ctx), pending);
      break;
    }
    case 'symlink': {
      if (header.linkpath === '' || header.linkpath.includes('\0')) throw refuse(name, 'symlink with an empty target or a NUL byte');
      await replace(rel, ctx);
      await fs.symlink(header.linkpath, path);
      await fs.lchown(path, header.uid, header.gid);
      await fs.lutimes(path, header.mtime, header.mtime);
      break;
    }
    case 'link': {
      const source = await hardLinkSource(header, rel, ctx);
      await replace(rel, ctx);
      await fs.link(root.full(source), path);
      const st = await fs.lstat(path);
      await setOwnerAndMode(fs, path, header, st.isSymbolicLink());
      await fs.lutimes(path, header.mtime, header.mtime);
      break;
    }
    case 'char':
    case 'block':
    case 'fifo': {
      await replace(rel, ctx);
      if (header.kind === 'fifo') await makeFifo(path);
      else await makeDevice(path, header.kind === 'char' ? 'c' : 'b', header.devmajor, header.devminor);
      await setOwnerAndMode(fs, path, header, false);
      await fs.lutimes(path, header.mtime, header.mtime);
      break;
    }
    default:
      throw refuse(name, `unsupported entry type ${JSON.stringify(header.typeflag)}`);
  }
  pending.wrote(rel);
  for (const [xattr, value] of header.xattrs) {
    if (SKIPPED_XATTRS.some((re) => re.test(xattr))) continue;
    if (!isPlainXattrName(xattr)) throw refuse(name, `invalid xattr name ${JSON.stringify(xattr)}`);
    // The kernel refuses user.* xattrs on symlinks; such a record cannot describe a real file.
    if (header.kind === 'symlink' && xattr.startsWith('user.')) continue;
    pending.addXattr(rel, xattr, value);
  }
  return written;
}

/** dockerd's refusal when docker cp would turn a directory into a file or a file into a directory. */
async function checkDirNonDir(root: LayerRoot, path: string, rel: string, header: TarHeader): Promise<void> {
  const existing = await root.lstatOrNull(path);
  if (!existing) return;
  if (existing.isDirectory() && header.kind !== 'dir') throw new BerthError('E_INVALID', `cannot overwrite directory ${JSON.stringify(`/${rel}`)} with non-directory ${JSON.stringify(header.path)}`);
  if (!existing.isDirectory() && header.kind === 'dir') throw new BerthError('E_INVALID', `cannot overwrite non-directory ${JSON.stringify(`/${rel}`)} with directory ${JSON.stringify(header.path)}`);
}

/** A later entry replaces an earlier one of the same name (a directory with all it holds). */
async function replace(rel: string, ctx: EntryContext): Promise<void> {
  const st = await ctx.root.lstatOrNull(ctx.root.full(rel));
  if (st) await ctx.root.remove(rel, st);
}

/** chown first: it clears setuid/setgid, which chmod then sets. A symlink has no mode of its own. */
async function setOwnerAndMode(fs: FsOps, path: string, header: TarHeader, isSymlink: boolean): Promise<void> {
  await fs.lchown(path, header.uid, header.gid);
  if (!isSymlink) await fs.chmod(path, header.mode & 0o7777);
}

async function writeFile(fs: FsOps, path: string, entry: TarEntry, clear: () => Promise<void>, pending: Pending): Promise<number> {
  const { header } = entry;
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  let file: OpenFile;
  try {
    file = await fs.open(path, flags, 0o600);
  } catch (err) {
    // Most paths are new: look at what is there only when the exclusive create says so.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    await clear();
    file = await fs.open(path, flags, 0o600);
  }
  let written = 0;
  try {
    for await (const chunk of entry.body) {
      for (let offset = 0; offset < chunk.length;) {
        const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset);
        offset += bytesWritten;
      }
      written += chunk.length;
    }
  } catch (err) {
    await file.close();
    throw err;
  }
  // On the open descriptor: nothing can be swapped in between, so it may finish later.
  const fd = file;
  await pending.defer((async () => {
    try {
      await fd.chown(header.uid, header.gid);
      await fd.chmod(header.mode & 0o7777);
      await fd.utimes(header.mtime, header.mtime);
    } finally {
      await fd.close();
    }
  })());
  return written;
}

/** The layer path a hard link points to: inside the layer, reached without symlinks, not a directory. */
async function hardLinkSource(header: TarHeader, rel: string, ctx: EntryContext): Promise<string> {
  const name = header.path;
  let parts: string[];
  try {
    parts = layerPathParts(header.linkpath, name);
  } catch {
    throw refuse(name, `hard link target ${JSON.stringify(header.linkpath)} escapes the layer`);
  }
  const source = parts.join('/');
  const missing = () => refuse(name, `hard link target ${JSON.stringify(header.linkpath)} does not exist in the layer`);
  if (parts.length === 0) throw refuse(name, 'hard link to the layer root');
  if (source === rel) throw refuse(name, 'hard link to itself');
  if (!(await ctx.root.dirExists(parts.slice(0, -1), name, 'hard link target parent'))) throw missing();
  const st: Stats | null = await ctx.root.lstatOrNull(ctx.root.full(source));
  if (!st) throw missing();
  if (st.isDirectory()) throw refuse(name, `hard link target ${JSON.stringify(header.linkpath)} is a directory`);
  return source;
}

/** delete mode: an opaque directory loses everything the layers below put in it. */
async function clearOpaque(dir: string, ctx: EntryContext): Promise<void> {
  const { root, pending } = ctx;
  for (const child of await root.fs.readdir(root.full(dir))) {
    const rel = dir === '' ? child : `${dir}/${child}`;
    const st = await root.fs.lstat(root.full(rel));
    if (!pending.unpacked.has(rel)) await root.remove(rel, st);
    else if (st.isDirectory()) await clearOpaque(rel, ctx);
  }
}
