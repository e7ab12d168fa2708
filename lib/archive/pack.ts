// Packing of a layer's changes into a POSIX (PAX) tar with Docker whiteouts, the way dockerd's
// graph drivers export a diff: entries in the order given, hard links among them by inode,
// mtimes in whole seconds, no user or group names.
import { constants, type BigIntStats } from 'node:fs';
import { lstat, open, readlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { systemError } from '../../core/plugin-api.js';
import { layerPathParts, OPAQUE, WHITEOUT_PREFIX } from './entry-path.js';
import { getXattrs } from './fs-tools.js';
import { END_OF_ARCHIVE, encodeHeader, paddingFor, type HeaderFields } from './tar-writer.js';

export type PackEntry = {
  /** Relative to the root, e.g. "etc/passwd". */
  path: string;
  /** entry: what is at path; whiteout: path was deleted; opaque: directory path hides the layers below. */
  kind: 'entry' | 'whiteout' | 'opaque';
  /** The entry's name in the archive when it is not `path` (docker cp renames what it copies). */
  as?: string;
};

// Not carried: the kernel's overlay bookkeeping, SELinux labels and ACLs (dockerd carries none of them).
const SKIPPED_XATTRS = [/^trusted\.overlay\./, /^user\.overlay\./, /^security\.selinux$/, /^system\./];
const BATCH = 256;
const CHUNK = 256 * 1024;

/** `then`: a tar whose entries follow the changes' (its end-of-archive ends the whole). */
export function packChanges(root: string, entries: PackEntry[], then?: AsyncIterable<Buffer>): Readable {
  if (!then) return Readable.from(pack(root, entries), { objectMode: false });
  async function* both(): AsyncGenerator<Buffer> {
    yield* pack(root, entries, false);
    yield* then!;
  }
  return Readable.from(both(), { objectMode: false });
}

/** Entries of several roots in one archive, one root after the other (docker cp of a folder with mounts below it). */
export function packRoots(parts: { root: string; entries: PackEntry[] }[]): Readable {
  async function* all(): AsyncGenerator<Buffer> {
    for (const p of parts) yield* pack(p.root, p.entries, false);
    yield END_OF_ARCHIVE;
  }
  return Readable.from(all(), { objectMode: false });
}

interface Resolved {
  entry: PackEntry;
  rel: string;
  st: BigIntStats | null;
}

async function* pack(root: string, entries: PackEntry[], end = true): AsyncGenerator<Buffer> {
  const checked = new Set<string>(['']);
  const linked = new Map<string, string>(); // "dev:ino" → first path packed
  const full = (rel: string) => (rel === '' ? root : `${root}/${rel}`);

  // A listed path must not lead through a symlink: its target could be anywhere on the host.
  const resolve = async (entry: PackEntry): Promise<Resolved> => {
    let parts: string[];
    try {
      parts = layerPathParts(entry.path);
    } catch {
      throw systemError(`packing ${root}: path ${JSON.stringify(entry.path)} escapes the layer`);
    }
    let rel = '';
    for (const part of parts.slice(0, -1)) {
      rel = rel === '' ? part : `${rel}/${part}`;
      if (checked.has(rel)) continue;
      const st = await lstat(full(rel)).catch(() => null);
      if (st && !st.isDirectory()) throw systemError(`packing ${root}: ${JSON.stringify(entry.path)}: ${JSON.stringify(rel)} is not a directory`);
      if (st) checked.add(rel);
    }
    rel = parts.join('/');
    const st = await lstat(full(rel), { bigint: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' && entry.kind === 'whiteout') return null;
      throw systemError(`packing ${root}: ${JSON.stringify(entry.path)}: ${err.message}`, err);
    });
    return { entry, rel, st };
  };

  for (let i = 0; i < entries.length; i += BATCH) {
    const batch: Resolved[] = [];
    for (const entry of entries.slice(i, i + BATCH)) batch.push(await resolve(entry));
    const xattrs = await getXattrs(batch.filter((r) => r.entry.kind === 'entry' && !r.st!.isSocket()).map((r) => full(r.rel)));
    for (const { entry, rel, st } of batch) {
      const name = entry.as ?? rel;
      if (entry.kind === 'whiteout') {
        const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/') + 1) : '';
        const base = rel.slice(parent.length);
        // The directory's mtime, so that the same changes pack to the same bytes.
        const dir = await lstat(full(parent.replace(/\/$/, '')), { bigint: true }).catch(() => null);
        const named = entry.as === undefined ? parent : entry.as.slice(0, entry.as.lastIndexOf('/') + 1);
        yield encodeHeader({ path: `${named}${WHITEOUT_PREFIX}${base}`, typeflag: '0', mode: 0, uid: 0, gid: 0, size: 0, mtime: dir ? seconds(dir) : 0 });
        continue;
      }
      const stats = st!;
      if (entry.kind === 'opaque') {
        if (!stats.isDirectory()) throw systemError(`packing ${root}: opaque ${JSON.stringify(entry.path)} is not a directory`);
        yield encodeHeader({ ...owner(stats), path: name === '' ? OPAQUE : `${name}/${OPAQUE}`, typeflag: '0', mode: Number(stats.mode) & 0o777, size: 0 });
        continue;
      }
      if (stats.isSocket()) continue; // dockerd skips sockets too
      const fields: HeaderFields = { ...owner(stats), path: name, typeflag: '0', mode: Number(stats.mode) & 0o7777, size: 0 };
      const found = xattrs.get(full(rel));
      if (found) {
        const kept = [...found].filter(([name]) => !SKIPPED_XATTRS.some((re) => re.test(name)));
        if (kept.length > 0) fields.xattrs = new Map(kept);
      }
      const inode = `${stats.dev}:${stats.ino}`;
      if (!stats.isDirectory() && stats.nlink > 1n && linked.has(inode)) {
        yield encodeHeader({ ...fields, typeflag: '1', linkpath: linked.get(inode) });
        continue;
      }
      if (!stats.isDirectory() && stats.nlink > 1n) linked.set(inode, name);
      if (stats.isDirectory()) yield encodeHeader({ ...fields, path: name === '' ? './' : name.endsWith('/') ? name : `${name}/`, typeflag: '5' });
      else if (stats.isSymbolicLink()) yield encodeHeader({ ...fields, typeflag: '2', linkpath: await readlink(full(rel)) });
      else if (stats.isFIFO()) yield encodeHeader({ ...fields, typeflag: '6' });
      else if (stats.isCharacterDevice() || stats.isBlockDevice()) {
        yield encodeHeader({ ...fields, typeflag: stats.isCharacterDevice() ? '3' : '4', devmajor: major(stats.rdev), devminor: minor(stats.rdev) });
      } else {
        const size = Number(stats.size);
        yield encodeHeader({ ...fields, size });
        yield* fileContent(full(rel), stats, size);
        yield paddingFor(size);
      }
    }
  }
  if (end) yield END_OF_ARCHIVE;
}

/** Exactly `size` bytes of the file that was stat-ed; a file that changed meanwhile is an error. */
async function* fileContent(path: string, stats: BigIntStats, size: number): AsyncGenerator<Buffer> {
  const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const now = await file.stat({ bigint: true });
    if (now.ino !== stats.ino || now.dev !== stats.dev) throw systemError(`packing ${path}: file replaced while packing`);
    for (let left = size; left > 0;) {
      const buffer = Buffer.allocUnsafe(Math.min(CHUNK, left));
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) throw systemError(`packing ${path}: file shrank while packing (expected ${size} bytes)`);
      left -= bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
    const { bytesRead } = await file.read(Buffer.alloc(1), 0, 1, null);
    if (bytesRead > 0) throw systemError(`packing ${path}: file grew while packing (expected ${size} bytes)`);
  } finally {
    await file.close();
  }
}

function seconds(stats: BigIntStats): number {
  return Number(stats.mtimeNs / 1_000_000_000n) - (stats.mtimeNs < 0n && stats.mtimeNs % 1_000_000_000n !== 0n ? 1 : 0);
}

function owner(stats: BigIntStats) {
  return { uid: Number(stats.uid), gid: Number(stats.gid), mtime: seconds(stats) };
}

// Linux dev_t encoding (glibc's gnu_dev_major / gnu_dev_minor).
function major(dev: bigint): number {
  return Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
}

function minor(dev: bigint): number {
  return Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
}
