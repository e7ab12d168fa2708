// Encoding of tar headers: USTAR when the entry fits, with a PAX 'x' header before it for what
// does not (long or non-ASCII names, big numbers, xattrs), as Go's archive/tar writes for dockerd.
import { Readable } from 'node:stream';
import { BLOCK } from './tar-header.js';

export interface HeaderFields {
  /** Relative path; directories get their trailing "/" here. */
  path: string;
  typeflag: '0' | '1' | '2' | '3' | '4' | '5' | '6';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Whole seconds. */
  mtime: number;
  linkpath?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Buffer>;
}

export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;
const isAscii = (text: string) => /^[\x01-\x7f]*$/.test(text);

export function paddingFor(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** The header block(s) of one entry: [PAX header, PAX data, padding,] USTAR block. */
export function encodeHeader(fields: HeaderFields): Buffer {
  const pax = new Map<string, Buffer>();
  const split = splitUstarName(fields.path);
  if (!split) pax.set('path', Buffer.from(fields.path));
  const linkpath = fields.linkpath ?? '';
  if (!isAscii(linkpath) || Buffer.byteLength(linkpath) > 100) pax.set('linkpath', Buffer.from(linkpath));
  const numbers: [key: string, value: number, max: number][] = [
    ['uid', fields.uid, MAX_OCTAL_7], ['gid', fields.gid, MAX_OCTAL_7],
    ['size', fields.size, MAX_OCTAL_11], ['mtime', fields.mtime, MAX_OCTAL_11],
  ];
  for (const [key, value, max] of numbers) if (value < 0 || value > max) pax.set(key, Buffer.from(String(value)));
  for (const [name, value] of fields.xattrs ?? []) pax.set(`SCHILY.xattr.${name}`, value);

  const block = Buffer.alloc(BLOCK);
  const [prefix, name] = split ?? ['', asciiTail(fields.path, 100)];
  block.write(name, 0, 100, 'utf8');
  writeOctal(block, 100, 8, fields.mode & 0o7777);
  writeOctal(block, 108, 8, pax.has('uid') ? 0 : fields.uid);
  writeOctal(block, 116, 8, pax.has('gid') ? 0 : fields.gid);
  writeOctal(block, 124, 12, pax.has('size') ? 0 : fields.size);
  writeOctal(block, 136, 12, pax.has('mtime') ? 0 : fields.mtime);
  block.write(fields.typeflag, 156, 1, 'latin1');
  if (!pax.has('linkpath')) block.write(linkpath, 157, 100, 'utf8');
  block.write('ustar\u000000', 257, 8, 'latin1');
  writeOctal(block, 329, 8, fields.devmajor ?? 0);
  writeOctal(block, 337, 8, fields.devminor ?? 0);
  block.write(prefix, 345, 155, 'utf8');
  writeChecksum(block);
  if (pax.size === 0) return block;

  const data = paxData(pax);
  const paxHeader = Buffer.alloc(BLOCK);
  paxHeader.write(`PaxHeaders.0/${asciiTail(fields.path.replace(/\/$/, '').split('/').at(-1) ?? '', 87)}`, 0, 100, 'latin1');
  writeOctal(paxHeader, 100, 8, 0o644);
  writeOctal(paxHeader, 108, 8, 0);
  writeOctal(paxHeader, 116, 8, 0);
  writeOctal(paxHeader, 124, 12, data.length);
  writeOctal(paxHeader, 136, 12, pax.has('mtime') ? 0 : fields.mtime);
  paxHeader.write('x', 156, 1, 'latin1');
  paxHeader.write('ustar\u000000', 257, 8, 'latin1');
  writeChecksum(paxHeader);
  return Buffer.concat([paxHeader, data, paddingFor(data.length), block]);
}

/** [prefix, name] when the path fits USTAR's two fields as ASCII, else null. */
function splitUstarName(path: string): [string, string] | null {
  if (!isAscii(path)) return null;
  if (path.length <= 100) return ['', path];
  // Split at a "/" so that the name part (≤100) and the prefix (≤155) both fit.
  for (let i = path.length - 1; i > 0; i--) {
    if (path[i] !== '/') continue;
    if (path.length - i - 1 > 100) break;
    if (i <= 155 && path.length - i - 1 > 0) return [path.slice(0, i), path.slice(i + 1)];
  }
  return null;
}

/** The ASCII characters of `text`, cut to `max` from the end (a readable stand-in for PAX names). */
function asciiTail(text: string, max: number): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '_');
  return ascii.length <= max ? ascii : ascii.slice(ascii.length - max);
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'latin1');
}

function writeChecksum(block: Buffer): void {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
}

/** "%d %s=%s\n" records, sorted by key (deterministic output, as Go writes them). */
function paxData(records: Map<string, Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const key of [...records.keys()].sort()) {
    const body = Buffer.concat([Buffer.from(` ${key}=`), records.get(key)!, Buffer.from('\n')]);
    let length = body.length + 1;
    while (String(length).length + body.length > length) length++;
    parts.push(Buffer.from(String(length)), body);
  }
  return Buffer.concat(parts);
}

/** An entry of an archive Berth makes itself from known sizes (docker save): a folder or a file. */
export type TarItem =
  | { type: 'dir'; name: string }
  | { type: 'file'; name: string; data: Buffer }
  | { type: 'file'; name: string; size: number; stream: () => Promise<Readable> };

const itemHeader = (path: string, typeflag: '0' | '5', size: number, mode: number) =>
  encodeHeader({ path, typeflag, mode, uid: 0, gid: 0, size, mtime: 0 });

/** Streams the items as a tar; `items` is consumed lazily, so file streams open one at a time. */
export function writeTar(items: AsyncIterable<TarItem> | Iterable<TarItem>): Readable {
  async function* generate() {
    for await (const item of items) {
      if (item.type === 'dir') {
        yield itemHeader(item.name.endsWith('/') ? item.name : `${item.name}/`, '5', 0, 0o755);
        continue;
      }
      if ('data' in item) {
        yield itemHeader(item.name, '0', item.data.length, 0o644);
        yield item.data;
        yield paddingFor(item.data.length);
        continue;
      }
      yield itemHeader(item.name, '0', item.size, 0o644);
      let written = 0;
      for await (const chunk of await item.stream()) {
        written += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      if (written !== item.size) throw new Error(`${item.name}: expected ${item.size} bytes, got ${written}`);
      yield paddingFor(item.size);
    }
    yield END_OF_ARCHIVE;
  }
  return Readable.from(generate(), { objectMode: false });
}
