// docker cp into a folder that has mounts below it (the container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf in /etc, -v binds, volumes): dockerd mounts them on the container's root for
// the copy, so an entry lands in what the container sees. Here the archive is routed entry by
// entry: a file for a file mount is written into the mount's source in place (the container's bind
// mount keeps its inode; replacing the file would detach the mount), entries below a folder mount
// (a volume, a -v folder) are extracted into its source by the same extractor, with the same
// refusals; everything else goes on unchanged to the extraction into the root file system.
import { once } from 'node:events';
import { open, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { invalid } from '../../../core/plugin-api.js';
import { decompressed, extractLayer, TarReader, type ExtractOptions, type TarEntry } from '../../../lib/archive/index.js';
import { encodeHeader, paddingFor, type HeaderFields } from '../../../lib/archive/tar-writer.js';
import type { PathMount } from './container-path.js';

const END_OF_ARCHIVE = Buffer.alloc(1024);

const isUnder = (path: string, dir: string) => dir === '/' ? path !== '/' : path.startsWith(`${dir}/`);

/** The mounts strictly below `dir` (a cleaned absolute container path). */
export function mountsBelow(dir: string, mounts: PathMount[]): PathMount[] {
  // Deepest first: a mount inside another mount wins.
  return mounts.filter((m) => isUnder(m.destination, dir)).sort((a, b) => b.destination.length - a.destination.length);
}

/** One folder mount's own extraction, fed entry by entry. */
interface FolderSink {
  input: PassThrough;
  done: Promise<unknown>;
}

const TYPEFLAGS = new Set(['0', '1', '2', '3', '4', '5', '6']);

/** The archive for the root file system, with what belongs to the mounts below `dir` written there. */
export async function routeThroughMounts(tar: Readable, dir: string, mounts: PathMount[], opts: ExtractOptions): Promise<Readable> {
  const reader = new TarReader(await decompressed(tar));
  const folders = new Set<PathMount>();
  for (const m of mounts) if ((await stat(m.source).catch(() => null))?.isDirectory()) folders.add(m);
  const sinks = new Map<PathMount, FolderSink>();
  const sinkOf = (m: PathMount) => {
    let s = sinks.get(m);
    if (!s) {
      const input = new PassThrough();
      s = { input, done: extractLayer(input, m.source, opts) };
      // A failed extraction stops taking input: the writer must not wait for it forever.
      s.done.catch(() => input.destroy());
      sinks.set(m, s);
    }
    return s;
  };
  async function* rest(): AsyncGenerator<Buffer> {
    for await (const entry of reader.entries()) {
      const path = posix.join(dir, posix.normalize(`/${entry.header.path}`)).replace(/(.)\/$/, '$1');
      const mount = mounts.find((m) => m.destination === path || isUnder(path, m.destination));
      if (!mount) {
        yield entry.raw;
        for await (const chunk of entry.body) yield chunk;
        yield entry.padding;
        continue;
      }
      if (mount.readonly) throw invalid('mounted volume is marked read-only');
      if (folders.has(mount)) {
        // The mount's own folder stays as mounted; what is below it goes into the mount.
        if (path === mount.destination) {
          for await (const _ of entry.body) { /* skipped */ }
          continue;
        }
        await feed(sinkOf(mount), entry, path.slice(mount.destination.length + 1), mount.destination, dir);
        continue;
      }
      if (mount.destination !== path || entry.header.kind !== 'file') {
        throw invalid(`cannot copy ${path} through the mount at ${mount.destination}: copy into ${mount.destination} itself`);
      }
      await writeInPlace(mount.source, entry.body);
    }
    for (const s of sinks.values()) s.input.end(END_OF_ARCHIVE);
    await Promise.all([...sinks.values()].map((s) => s.done));
    yield END_OF_ARCHIVE;
  }
  return Readable.from(rest());
}

/** One entry re-encoded with its name (and a hard link's target) relative to the mount. */
async function feed(sink: FolderSink, entry: TarEntry, rel: string, mountDest: string, dir: string): Promise<void> {
  const h = entry.header;
  if (h.sparse || !TYPEFLAGS.has(h.typeflag === '\0' || h.typeflag === '7' ? '0' : h.typeflag)) {
    throw invalid(`cannot copy ${rel} into the mount at ${mountDest}: unsupported entry type ${JSON.stringify(h.typeflag)}`);
  }
  let linkpath = h.linkpath;
  if (h.kind === 'link') {
    const target = posix.join(dir, posix.normalize(`/${h.linkpath}`));
    if (!isUnder(target, mountDest)) throw invalid(`cannot copy ${rel}: its hard link target ${h.linkpath} is outside the mount at ${mountDest}`);
    linkpath = target.slice(mountDest.length + 1);
  }
  const fields: HeaderFields = {
    path: h.kind === 'dir' ? `${rel}/` : rel,
    typeflag: (h.typeflag === '\0' || h.typeflag === '7' ? '0' : h.typeflag) as HeaderFields['typeflag'],
    mode: h.mode, uid: h.uid, gid: h.gid, size: h.size, mtime: Math.floor(h.mtime),
    ...(linkpath ? { linkpath } : {}), devmajor: h.devmajor, devminor: h.devminor, xattrs: h.xattrs,
  };
  await write(sink, encodeHeader(fields));
  for await (const chunk of entry.body) await write(sink, chunk);
  await write(sink, paddingFor(h.size));
}

async function write(sink: FolderSink, chunk: Buffer): Promise<void> {
  if (sink.input.destroyed) await sink.done;
  if (!sink.input.write(chunk)) await Promise.race([once(sink.input, 'drain'), sink.done.then(() => undefined)]);
}

async function writeInPlace(file: string, body: AsyncIterable<Buffer>): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    await fh.truncate(0);
    let at = 0;
    for await (const chunk of body) {
      await fh.write(chunk, 0, chunk.length, at);
      at += chunk.length;
    }
  } finally {
    await fh.close();
  }
}
