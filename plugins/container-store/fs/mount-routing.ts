// docker cp into a folder that has bind mounts below it (the container's /etc/hostname, /etc/hosts
// and /etc/resolv.conf in /etc, -v binds): dockerd mounts them on the container's root for the
// copy, so an entry lands in what the container sees. Here the archive is routed entry by entry:
// a file for a file mount is written into the mount's source in place (the container's bind
// mount keeps its inode; replacing the file would detach the mount), everything else goes on
// unchanged to the extraction into the root file system.
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { invalid } from '../../../core/plugin-api.js';
import { decompressed, TarReader } from '../../../lib/archive/index.js';
import type { PathMount } from './container-path.js';

const END_OF_ARCHIVE = Buffer.alloc(1024);

const isUnder = (path: string, dir: string) => dir === '/' ? path !== '/' : path.startsWith(`${dir}/`);

/** The mounts strictly below `dir` (a cleaned absolute container path). */
export function mountsBelow(dir: string, mounts: PathMount[]): PathMount[] {
  // Deepest first: a mount inside another mount wins.
  return mounts.filter((m) => isUnder(m.destination, dir)).sort((a, b) => b.destination.length - a.destination.length);
}

/** The archive for the root file system, with what belongs to the mounts below `dir` written there. */
export async function routeThroughMounts(tar: Readable, dir: string, mounts: PathMount[]): Promise<Readable> {
  const reader = new TarReader(await decompressed(tar));
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
      if (mount.destination !== path || entry.header.kind !== 'file') {
        throw invalid(`cannot copy ${path} through the mount at ${mount.destination}: copy into ${mount.destination} itself`);
      }
      if (mount.readonly) throw invalid('mounted volume is marked read-only');
      await writeInPlace(mount.source, entry.body);
    }
    yield END_OF_ARCHIVE;
  }
  return Readable.from(rest());
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
