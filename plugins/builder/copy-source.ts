// COPY/ADD's sources, as dockerd's copier reads them: globs matched in a root folder (the build
// context, or a stage's or image's files), directories copied by their contents, the destination
// a folder when it ends in "/" or several sources go there. What is copied becomes a tar of its
// own (paths under the destination, the owner --chown gives) and a content hash for the cache key.
import { createReadStream, type Stats } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { posix, join } from 'node:path';
import { Readable } from 'node:stream';
import { invalid } from '../../core/plugin-api.js';
import { END_OF_ARCHIVE, encodeHeader, paddingFor, type HeaderFields } from '../../lib/archive/tar-writer.js';

export interface CopyItem {
  /** Host path of the file, folder or link. */
  host: string;
  /** Its path in the image, relative to / (no leading slash). */
  dest: string;
  kind: 'file' | 'dir' | 'symlink';
  mode: number;
  size: number;
  mtime: number;
  link?: string;
  /** A file's content, when it is in memory (then `host` is not read). */
  data?: Buffer;
}

/** Go's path.Match for one pattern against a relative path, segment by segment. */
function globRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw invalid(`syntax error in pattern: ${pattern}`);
      const body = pattern.slice(i + 1, end);
      re += `[${body.startsWith('^') ? `^${body.slice(1)}` : body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const hasGlob = (p: string) => /[*?[]/.test(p);

/** Every path below `rel` in `root`, parents before children, names in order, with their lstat. */
async function walk(root: string, rel: string, out: string[], stats?: Map<string, Stats>): Promise<void> {
  const names = (await readdir(join(root, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of names) {
    const p = rel ? `${rel}/${entry.name}` : entry.name;
    out.push(p);
    if (stats) stats.set(p, await lstat(join(root, p)));
    if (entry.isDirectory()) await walk(root, p, out, stats);
  }
}

/** The relative paths in `root` that a source names (a plain path, or a glob). */
export async function matchSource(root: string, source: string, what: string): Promise<string[]> {
  const clean = posix.normalize(`/${source}`).slice(1).replace(/\/$/, '');
  if (clean.startsWith('..')) throw invalid(`${what} failed: forbidden path outside the build context: ${source} ()`);
  if (!hasGlob(clean)) {
    if (clean && !(await lstat(join(root, clean)).catch(() => null))) {
      throw invalid(`${what} failed: file not found in build context or excluded by .dockerignore: stat ${source}: file does not exist`);
    }
    return [clean];
  }
  const all: string[] = [];
  await walk(root, '', all);
  const re = globRegExp(clean);
  const hits = all.filter((p) => re.test(p));
  if (!hits.length) throw invalid(`${what} failed: no source files were specified`);
  return hits;
}

export interface CopyPlan {
  /** dockerd's word for the source in the history comment: file:, dir: or multi:. */
  kind: 'file' | 'dir' | 'multi';
  /** The matched source paths, relative to the root (what the content hash covers). */
  matched: string[];
  /** What goes where: read only when the step is not in the cache. */
  items(): Promise<CopyItem[]>;
}

/**
 * planCopy's matching and checks answered by `kindOf` (a context's index) instead of the disk: the
 * same matches, kind and errors. Undefined when a source is a glob (the disk answers those).
 */
export function planSources(kindOf: (rel: string) => 'file' | 'dir' | undefined, sources: string[], dest: string, what: string): Pick<CopyPlan, 'kind' | 'matched'> | undefined {
  const matched: string[] = [];
  for (const source of sources) {
    const clean = posix.normalize(`/${source}`).slice(1).replace(/\/$/, '');
    if (clean.startsWith('..')) throw invalid(`${what} failed: forbidden path outside the build context: ${source} ()`);
    if (hasGlob(clean)) return undefined;
    if (clean && !kindOf(clean)) {
      throw invalid(`${what} failed: file not found in build context or excluded by .dockerignore: stat ${source}: file does not exist`);
    }
    matched.push(clean);
  }
  if (matched.length > 1 && !dest.endsWith('/')) throw invalid(`When using ${what} with more than one source file, the destination must be a directory and end with a /`);
  const kind = matched.length > 1 ? 'multi' : kindOf(matched[0]) === 'dir' ? 'dir' : 'file';
  return { kind, matched };
}

/** A context's entry (context/index.ts IndexedEntry) as planCopy's items need it. */
export interface SourceEntry {
  kind: 'file' | 'dir';
  mode: number;
  size: number;
  mtime: number;
  data?: Buffer;
  children?: Set<string>;
}

/** planCopy's items() from a context's index (no symlinks there): the same items, in the same order. */
export function indexedItems(entry: (rel: string) => SourceEntry | undefined, matched: string[], dest: string): CopyItem[] {
  const destIsDir = dest.endsWith('/') || matched.length > 1;
  const base = dest.replace(/^\/+/, '').replace(/\/+$/, '');
  const item = (rel: string, to: string): CopyItem => {
    const e = entry(rel)!;
    return { host: '', dest: to, kind: e.kind, mode: e.mode, size: e.kind === 'file' ? e.size : 0, mtime: Math.floor(e.mtime), ...(e.data ? { data: e.data } : {}) };
  };
  const out: CopyItem[] = [];
  const below = (rel: string, at: string) => {
    const names = [...entry(rel)!.children!].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of names) {
      const child = rel ? `${rel}/${name}` : name;
      const b = at ? `${at}/${name}` : name;
      out.push(item(child, base ? `${base}/${b}` : b));
      if (entry(child)!.kind === 'dir') below(child, b);
    }
  };
  for (const rel of matched) {
    if (entry(rel)!.kind === 'dir') below(rel, '');
    else out.push(item(rel, destIsDir ? (base ? `${base}/${posix.basename(rel)}` : posix.basename(rel)) : base));
  }
  return out;
}

/** What `sources` (relative to root) put at `dest` (absolute in the image), in dockerd's terms. */
export async function planCopy(root: string, sources: string[], dest: string, what: string): Promise<CopyPlan> {
  const matched: string[] = [];
  for (const s of sources) matched.push(...await matchSource(root, s, what));
  const destIsDir = dest.endsWith('/') || matched.length > 1;
  if (matched.length > 1 && !dest.endsWith('/')) throw invalid(`When using ${what} with more than one source file, the destination must be a directory and end with a /`);
  const base = dest.replace(/^\/+/, '').replace(/\/+$/, '');
  const single = matched.length === 1 ? await lstat(join(root, matched[0])) : undefined;
  const kind = matched.length > 1 ? 'multi' : single?.isDirectory() ? 'dir' : 'file';
  const items = async () => {
    const out: CopyItem[] = [];
    for (const rel of matched) {
      const host = join(root, rel);
      if ((await lstat(host)).isDirectory()) {
        const below: string[] = [];
        const stats = new Map<string, Stats>();
        await walk(host, '', below, stats);
        for (const b of below) out.push(await itemOf(join(host, b), base ? `${base}/${b}` : b, stats.get(b)));
      } else {
        const name = destIsDir ? (base ? `${base}/${posix.basename(rel)}` : posix.basename(rel)) : base;
        out.push(await itemOf(host, name));
      }
    }
    return out;
  };
  return { kind, matched, items };
}

async function itemOf(host: string, dest: string, known?: Stats): Promise<CopyItem> {
  const st = known ?? await lstat(host);
  const kind = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'file';
  return {
    host, dest, kind, mode: st.mode & 0o7777, size: kind === 'file' ? st.size : 0, mtime: Math.floor(st.mtimeMs / 1000),
    ...(kind === 'symlink' ? { link: await readlink(host) } : {}),
  };
}

const WHOLE_FILE = 1 << 20;

/** The items as a tar rooted at /, owned by `owner`. */
export function tarOf(items: CopyItem[], owner: { uid: number; gid: number }): Readable {
  async function* generate() {
    for (const i of items) {
      const fields: HeaderFields = {
        path: i.kind === 'dir' ? `${i.dest}/` : i.dest,
        typeflag: i.kind === 'dir' ? '5' : i.kind === 'symlink' ? '2' : '0',
        mode: i.mode, uid: owner.uid, gid: owner.gid, size: i.size, mtime: i.mtime,
        ...(i.link !== undefined ? { linkpath: i.link } : {}),
      };
      yield encodeHeader(fields);
      if (i.kind !== 'file') continue;
      let n = 0;
      // Small files whole (a stream per file costs more than the read), big ones streamed.
      const chunks: AsyncIterable<unknown> | Iterable<Buffer> = i.data ? [i.data] : i.size <= WHOLE_FILE ? [await readFile(i.host)] : createReadStream(i.host);
      for await (const chunk of chunks) {
        const b = chunk as Buffer;
        const take = b.subarray(0, Math.max(0, i.size - n));
        n += take.length;
        yield take;
      }
      // A file that shrank since it was planned keeps its planned size in the archive.
      if (n < i.size) yield Buffer.alloc(i.size - n);
      yield paddingFor(i.size);
    }
    yield END_OF_ARCHIVE;
  }
  return Readable.from(coalesced(generate()));
}

const BATCH_BYTES = 256 << 10;

/** Small pieces (a header, a small file, its padding) passed on in batches: a stream chunk costs more than its bytes. */
async function* coalesced(pieces: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let batch: Buffer[] = [];
  let bytes = 0;
  for await (const piece of pieces) {
    if (piece.length >= BATCH_BYTES) {
      if (batch.length) yield Buffer.concat(batch);
      batch = [];
      bytes = 0;
      yield piece;
      continue;
    }
    batch.push(piece);
    bytes += piece.length;
    if (bytes >= BATCH_BYTES) {
      yield Buffer.concat(batch);
      batch = [];
      bytes = 0;
    }
  }
  if (batch.length) yield Buffer.concat(batch);
}
