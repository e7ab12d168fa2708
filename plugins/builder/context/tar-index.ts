// A build context kept as its tar until a step needs its files: the Dockerfile, .dockerignore and
// the content hashes of COPY/ADD sources come from the archive's entries, so a build whose steps
// all come from the cache never writes the context to disk. Only plain archives qualify (regular
// files and folders, clean names, every folder given before what it holds, no duplicates), and
// only for a daemon running as root, where extraction gives each path the archive's owner and
// mode: then an entry's hash is the one ContentHasher computes from the extracted file.
import { createHash } from 'node:crypto';
import { TarReader } from '../../../lib/archive/index.js';

export interface IndexedEntry {
  kind: 'file' | 'dir';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds, as extraction sets them. */
  mtime: number;
  /** A file's content (the archive is in memory already; these are its slices). */
  data?: Buffer;
  /** A folder's children, by name. */
  children?: Set<string>;
}

/** The entries of a plain context archive by cleaned path, or undefined when it does not qualify. */
export async function indexTar(chunks: Buffer[]): Promise<Map<string, IndexedEntry> | undefined> {
  const entries = new Map<string, IndexedEntry>();
  const root = new Set<string>();
  const reader = new TarReader((async function* () { yield* chunks; })());
  for await (const entry of reader.entries()) {
    const h = entry.header;
    if ((h.kind !== 'file' && h.kind !== 'dir') || h.sparse) return undefined;
    const name = h.kind === 'dir' ? h.path.replace(/\/$/, '') : h.path;
    const parts = name.split('/');
    if (parts.some((p) => p === '' || p === '.' || p === '..' || p.startsWith('.wh.'))) return undefined;
    const rel = parts.join('/');
    if (entries.has(rel)) return undefined;
    const parent = parts.length > 1 ? entries.get(parts.slice(0, -1).join('/')) : undefined;
    if (parts.length > 1 && parent?.kind !== 'dir') return undefined;
    (parent ? parent.children! : root).add(parts.at(-1)!);
    const data: Buffer[] = [];
    for await (const chunk of entry.body) data.push(chunk);
    entries.set(rel, {
      kind: h.kind, mode: h.mode & 0o7777, uid: h.uid, gid: h.gid, size: h.kind === 'file' ? h.size : 0, mtime: h.mtime,
      ...(h.kind === 'file' ? { data: Buffer.concat(data) } : { children: new Set<string>() }),
    });
  }
  entries.set('', { kind: 'dir', mode: 0, uid: 0, gid: 0, size: 0, mtime: 0, children: root });
  return entries;
}

/** Takes a path (and all below it) out of the index. */
export function removeEntry(entries: Map<string, IndexedEntry>, rel: string): void {
  const e = entries.get(rel);
  if (!e) return;
  for (const child of e.children ?? []) removeEntry(entries, `${rel}/${child}`);
  entries.delete(rel);
  const slash = rel.lastIndexOf('/');
  entries.get(slash < 0 ? '' : rel.slice(0, slash))?.children?.delete(rel.slice(slash + 1));
}

/** ContentHasher's hashes, from the index (the root's own stats given: it is the real folder's). */
export class IndexHasher {
  private readonly memo = new Map<string, string>();
  constructor(private readonly entries: Map<string, IndexedEntry>, private readonly rootStats: { mode: number; uid: number; gid: number }) {}

  hash(rel: string): string | undefined {
    const known = this.memo.get(rel);
    if (known) return known;
    const e = this.entries.get(rel);
    if (!e) return undefined;
    const own = rel === '' ? this.rootStats : e;
    const h = createHash('sha256');
    h.update(`${e.kind} ${(own.mode & 0o7777).toString(8)} ${own.uid} ${own.gid}`);
    if (e.kind === 'file') h.update(` ${e.size} ${createHash('sha256').update(e.data!).digest('hex')}`);
    else {
      for (const name of [...e.children!].sort()) h.update(`\n${JSON.stringify(name)} ${this.hash(rel ? `${rel}/${name}` : name)}`);
    }
    const out = `sha256:${h.digest('hex')}`;
    this.memo.set(rel, out);
    return out;
  }
}
