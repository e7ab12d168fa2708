// tar-split, as dockerd keeps it: every byte of a layer archive except the content of the regular
// files it extracts, so that `docker save` can rebuild the exact archive (its diffID) from the
// extracted layer. File content is read back from the layer by path.
//
// Limit: when one path is written twice with content (or a later whiteout in the same layer
// deletes it), the layer holds only the last state, so the rebuilt bytes differ (a size change is
// reported as an error; same-size different content is not detected: check the digest).
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createDeflateRaw, createInflateRaw } from 'node:zlib';
import { BerthError, systemError } from '../../core/plugin-api.js';
import { ByteSource } from './byte-source.js';
import { layerPathParts, whiteoutOf } from './entry-path.js';
import { TarReader, type TarEntry, type TarHeader } from './tar-reader.js';

export interface TarSplitRecord {
  version: 1;
  /** Every byte that is not extracted file content (headers, padding, end blocks), in order: raw DEFLATE, base64. */
  segments: string;
  /** The archive in order: a number is that many bytes of `segments`; a pair is a file's content by layer path. */
  items: (number | [path: string, size: number])[];
}

/** The layer path of an entry whose data extraction writes to a file, or null (data kept inline). */
export function contentPath(header: TarHeader): string | null {
  if (header.kind !== 'file' || header.size === 0 || header.sparse) return null;
  const parts = layerPathParts(header.path);
  if (parts.length === 0 || whiteoutOf(header.path, parts).kind !== 'none') return null;
  return parts.join('/');
}

const BATCH = 256 << 10;

export class TarSplitRecorder {
  private readonly deflate = createDeflateRaw();
  private readonly compressed: Buffer[] = [];
  private readonly items: TarSplitRecord['items'] = [];
  private open = 0; // bytes of the segment being added to
  private batch = Buffer.allocUnsafe(BATCH);
  private used = 0;

  constructor() {
    this.deflate.on('data', (chunk: Buffer) => this.compressed.push(chunk));
  }

  async segment(bytes: Buffer): Promise<void> {
    if (bytes.length === 0) return;
    this.open += bytes.length;
    if (this.used + bytes.length > this.batch.length) await this.flush();
    if (bytes.length > this.batch.length) await this.compress(Buffer.from(bytes));
    else this.used += bytes.copy(this.batch, this.used);
  }

  /**
   * Headers go to deflate in batches: one write per 512-byte header cost a thread-pool round trip
   * each (a layer of 1600 files: ~200 ms of waiting).
   */
  private async flush(): Promise<void> {
    if (this.used === 0) return;
    const full = this.batch.subarray(0, this.used);
    this.batch = Buffer.allocUnsafe(BATCH);
    this.used = 0;
    await this.compress(full);
  }

  private async compress(bytes: Buffer): Promise<void> {
    if (!this.deflate.write(bytes)) await once(this.deflate, 'drain');
  }

  /** Records the entry's header bytes; false when its data is recorded inline (read here too). */
  async header(entry: TarEntry): Promise<boolean> {
    await this.segment(entry.raw);
    const path = contentPath(entry.header);
    if (path === null) {
      for await (const chunk of entry.body) await this.segment(chunk);
      return false;
    }
    this.closeSegment();
    this.items.push([path, entry.header.size]);
    return true;
  }

  /** After the entry's data was consumed (or skipped): its padding. */
  async rest(entry: TarEntry, content: boolean): Promise<void> {
    if (content) for await (const _ of entry.body); // drains what the caller left, sets padding
    await this.segment(entry.padding);
  }

  async finish(): Promise<TarSplitRecord> {
    this.closeSegment();
    await this.flush();
    this.deflate.end();
    await finished(this.deflate);
    return { version: 1, segments: Buffer.concat(this.compressed).toString('base64'), items: this.items };
  }

  abort(): void {
    this.deflate.destroy();
  }

  private closeSegment(): void {
    if (this.open > 0) this.items.push(this.open);
    this.open = 0;
  }
}

/** Reads a whole uncompressed layer tar and returns its tar-split. */
export async function recordTarSplit(tar: Readable): Promise<TarSplitRecord> {
  const recorder = new TarSplitRecorder();
  try {
    const reader = new TarReader(tar);
    for await (const entry of reader.entries()) {
      const content = await recorder.header(entry);
      await recorder.rest(entry, content);
    }
    await recorder.segment(reader.trailer);
    return await recorder.finish();
  } catch (err) {
    recorder.abort();
    throw err;
  }
}

/** The archive the record was made from, byte for byte; file content comes from `open(path)`. */
export function assembleTarSplit(record: TarSplitRecord, open: (path: string) => Readable): Readable {
  return Readable.from(assemble(record, open), { objectMode: false });
}

const broken = (what: string) => new BerthError('E_INVALID', `invalid tar-split record: ${what}`);

async function* assemble(record: TarSplitRecord, open: (path: string) => Readable): AsyncGenerator<Buffer> {
  if (record?.version !== 1 || typeof record.segments !== 'string' || !Array.isArray(record.items)) {
    throw broken('expected {version: 1, segments, items}');
  }
  const inflate = createInflateRaw();
  inflate.end(Buffer.from(record.segments, 'base64'));
  const segments = new ByteSource(inflate);
  try {
    for (const item of record.items) {
      if (typeof item === 'number') {
        for (let left = item; left > 0;) {
          const chunk = await segments.readUpTo(left);
          if (!chunk) throw broken('segments end early');
          left -= chunk.length;
          yield chunk;
        }
        continue;
      }
      const [path, size] = item;
      let got = 0;
      for await (const data of open(path)) {
        const chunk = typeof data === 'string' ? Buffer.from(data) : (data as Buffer);
        got += chunk.length;
        if (got > size) break;
        yield chunk;
      }
      if (got !== size) {
        throw systemError(`tar-split: layer file ${JSON.stringify(path)} is ${got > size ? 'longer' : 'shorter'} than the ${size} bytes recorded`);
      }
    }
    if (await segments.readUpTo(1)) throw broken('segments longer than the items');
  } finally {
    await segments.close();
  }
}
