// A streaming tar reader. Each entry comes with its parsed header and the exact bytes of its
// header blocks (preceding GNU L/K and PAX x/g entries included), so tar-split can reproduce the
// archive byte for byte. File data is streamed, never buffered whole.
import { ByteSource } from './byte-source.js';
import {
  BLOCK, applyPax, checksumMatches, corrupt, cString, decodeName, isZeroBlock, parseBlock, parsePaxRecords,
  type TarHeader,
} from './tar-header.js';

export type { TarHeader, EntryKind } from './tar-header.js';

export interface TarEntry {
  header: TarHeader;
  /** Every byte from the end of the previous entry's padding up to this entry's data. */
  raw: Buffer;
  /** Byte offset of `raw` in the archive. */
  offset: number;
  /** Exactly header.size bytes. Read it (or not) before asking for the next entry. */
  body: AsyncIterable<Buffer>;
  /** The bytes after the data up to the next block boundary; set once the body is read or skipped. */
  padding: Buffer;
}

export interface TarReaderOptions {
  /** Most bytes kept after the end-of-archive marker (GNU tar pads to 10 KiB records). */
  maxTrailer?: number;
}

// Go's archive/tar limit for PAX and GNU long-name data: names are not megabytes long.
const MAX_META = 1 << 20;
const EMPTY = Buffer.alloc(0);
const padTo = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;

export class TarReader {
  /** Everything after the last entry: end-of-archive zero blocks and any record padding. Set at the end. */
  trailer: Buffer = EMPTY;
  private readonly source: ByteSource;
  private readonly maxTrailer: number;

  constructor(input: AsyncIterable<Buffer | string>, opts: TarReaderOptions = {}) {
    this.source = new ByteSource(input);
    this.maxTrailer = opts.maxTrailer ?? 1 << 20;
  }

  /** Bytes read from the input so far. */
  get offset(): number {
    return this.source.offset;
  }

  async *entries(): AsyncGenerator<TarEntry> {
    const src = this.source;
    let global = new Map<string, Buffer>();
    try {
      for (;;) {
        const raw: Buffer[] = [];
        const start = src.offset;
        let local = new Map<string, Buffer>();
        let longName: Buffer | null = null;
        let longLink: Buffer | null = null;
        let header: TarHeader | null = null;
        while (!header) {
          const where = `header at byte ${src.offset}`;
          const block = await src.read(BLOCK);
          if (block.length === 0 && raw.length === 0) return; // no end marker: tolerated, as Go does
          if (block.length < BLOCK) throw corrupt(`unexpected end of archive at byte ${src.offset}`);
          raw.push(block);
          if (isZeroBlock(block)) {
            await this.readTrailer(Buffer.concat(raw));
            return;
          }
          if (!checksumMatches(block)) throw corrupt(`bad header checksum at byte ${src.offset - BLOCK}`);
          const parsed = parseBlock(block, where);
          if (!'xgLK'.includes(parsed.typeflag)) {
            header = parsed;
            break;
          }
          if (parsed.size > MAX_META) throw corrupt(`${where}: ${parsed.typeflag} header data of ${parsed.size} bytes is too large`);
          const data = await src.read(parsed.size + padTo(parsed.size));
          if (data.length < parsed.size + padTo(parsed.size)) throw corrupt(`unexpected end of archive at byte ${src.offset}`);
          raw.push(data);
          const content = data.subarray(0, parsed.size);
          if (parsed.typeflag === 'x') local = parsePaxRecords(content, where);
          else if (parsed.typeflag === 'g') global = new Map([...global, ...parsePaxRecords(content, where)]);
          else if (parsed.typeflag === 'L') longName = cString(content);
          else longLink = cString(content);
        }
        const where = `header at byte ${start}`;
        if (longName) header.path = decodeName(longName, where);
        if (longLink) header.linkpath = decodeName(longLink, where);
        applyPax(header, new Map([...global, ...local]), where);

        const entry: TarEntry = { header, raw: Buffer.concat(raw), offset: start, body: EMPTY_BODY, padding: EMPTY };
        let remaining = header.size;
        let finished = false;
        const finish = async () => {
          if (finished) return;
          finished = true;
          const pad = padTo(header.size);
          entry.padding = pad === 0 ? EMPTY : Buffer.from(await src.read(pad));
          // The input may end right after the last entry's data, padding and end marker left out
          // (the docker CLI's `build -f-` context): Go's reader takes that as the end, and so do we.
          if (entry.padding.length < pad && entry.padding.length > 0) throw corrupt(`unexpected end of archive at byte ${src.offset}`);
        };
        entry.body = {
          async *[Symbol.asyncIterator]() {
            while (remaining > 0) {
              const chunk = await src.readUpTo(remaining);
              if (!chunk) throw corrupt(`unexpected end of archive at byte ${src.offset} (in ${JSON.stringify(header.path)})`);
              remaining -= chunk.length;
              yield chunk;
            }
            await finish();
          },
        };
        yield entry;
        if (remaining > 0) {
          const skipped = await src.skip(remaining);
          if (skipped < remaining) throw corrupt(`unexpected end of archive at byte ${src.offset} (in ${JSON.stringify(header.path)})`);
          remaining = 0;
        }
        await finish();
      }
    } finally {
      await src.close();
    }
  }

  /** Reads everything up to the end of the input after the end-of-archive marker. */
  private async readTrailer(head: Buffer): Promise<void> {
    const parts = [head];
    let length = head.length;
    for (let chunk = await this.source.readUpTo(64 * 1024); chunk; chunk = await this.source.readUpTo(64 * 1024)) {
      length += chunk.length;
      if (length > this.maxTrailer) throw corrupt(`more than ${this.maxTrailer} bytes after the end of the archive`);
      parts.push(Buffer.from(chunk));
    }
    this.trailer = Buffer.concat(parts, length);
  }
}

const EMPTY_BODY: AsyncIterable<Buffer> = { async *[Symbol.asyncIterator]() {} };
