// Parsing of one 512-byte tar header block (v7, ustar, star, GNU) and of PAX records.
// Field layout and number rules follow POSIX.1-2001 and Go's archive/tar (which dockerd uses).
import { BerthError } from '../../core/plugin-api.js';

export const BLOCK = 512;

export type EntryKind = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo' | 'other';

export interface TarHeader {
  /** The entry's name as the archive gives it (PAX or GNU long name applied), not cleaned. */
  path: string;
  linkpath: string;
  /** The raw type character: '0', '5', 'S', … ('\0' for old regular files). */
  typeflag: string;
  kind: EntryKind;
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of data that follow the header (0 for header-only kinds, whatever the field says). */
  size: number;
  /** Seconds since the epoch; fractional when a PAX mtime carries a fraction. */
  mtime: number;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** SCHILY.xattr.* PAX records: name → raw value. */
  xattrs: Map<string, Buffer>;
  /** GNU sparse file (type 'S' or GNU.sparse.* PAX records): its data is not the file's bytes. */
  sparse: boolean;
}

const KINDS: Record<string, EntryKind> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'link', '2': 'symlink',
  '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo',
};
// Go's archive/tar: these types never carry data, whatever their size field says.
const HEADER_ONLY = new Set<EntryKind>(['link', 'symlink', 'char', 'block', 'dir', 'fifo']);

export const corrupt = (what: string) => new BerthError('E_INVALID', `invalid layer archive: ${what}`);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Names must be valid UTF-8: a string path is what the file system and the rest of Berth use. */
export function decodeName(bytes: Buffer, where: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw corrupt(`${where}: name ${JSON.stringify(bytes.toString('latin1'))} is not valid UTF-8`);
  }
}

/** A NUL-terminated field. */
export function cString(field: Buffer): Buffer {
  const nul = field.indexOf(0);
  return nul === -1 ? field : field.subarray(0, nul);
}

/** An octal or base-256 (GNU) number field. */
export function parseNumber(field: Buffer, what: string): number {
  if (field.length > 0 && (field[0] & 0x80) !== 0) {
    const negative = (field[0] & 0x40) !== 0;
    let value = 0n;
    for (let i = 0; i < field.length; i++) {
      let byte = negative ? field[i] ^ 0xff : field[i];
      if (i === 0) byte &= 0x7f;
      value = (value << 8n) | BigInt(byte);
    }
    const result = negative ? -(value + 1n) : value;
    if (result > BigInt(Number.MAX_SAFE_INTEGER) || result < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw corrupt(`${what} field out of range`);
    }
    return Number(result);
  }
  const text = field.toString('latin1').replace(/^[ \0]+|[ \0]+$/g, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw corrupt(`${what} field ${JSON.stringify(text)} is not an octal number`);
  const value = parseInt(text, 8);
  if (!Number.isSafeInteger(value)) throw corrupt(`${what} field out of range`);
  return value;
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/** Header checksum: unsigned sum with the checksum field read as spaces (signed accepted, as old tars wrote). */
export function checksumMatches(block: Buffer): boolean {
  const stored = parseNumber(block.subarray(148, 156), 'checksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i];
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

/** The header as the block alone says it (no PAX or GNU long names yet). */
export function parseBlock(block: Buffer, where: string): TarHeader {
  const magic = block.toString('latin1', 257, 263);
  const version = block.toString('latin1', 263, 265);
  const ustar = magic === 'ustar\0' && version === '00';
  const gnu = magic === 'ustar ' && version === ' \0';
  const star = ustar && block.toString('latin1', 508, 512) === 'tar\0';
  let name = cString(block.subarray(0, 100));
  if (ustar) {
    const prefix = cString(block.subarray(345, star ? 476 : 500));
    if (prefix.length > 0) name = Buffer.concat([prefix, Buffer.from('/'), name]);
  }
  const typeflag = String.fromCharCode(block[156]);
  const path = decodeName(name, where);
  let kind = KINDS[typeflag] ?? 'other';
  // Pre-POSIX archives marked directories only by a trailing slash.
  if (typeflag === '\0' && path.endsWith('/')) kind = 'dir';
  const withNames = ustar || gnu;
  const size = parseNumber(block.subarray(124, 136), 'size');
  if (size < 0) throw corrupt(`${where}: negative size`);
  return {
    path,
    linkpath: decodeName(cString(block.subarray(157, 257)), where),
    typeflag,
    kind,
    mode: parseNumber(block.subarray(100, 108), 'mode'),
    uid: parseNumber(block.subarray(108, 116), 'uid'),
    gid: parseNumber(block.subarray(116, 124), 'gid'),
    size: HEADER_ONLY.has(kind) ? 0 : size,
    mtime: parseNumber(block.subarray(136, 148), 'mtime'),
    uname: withNames ? cString(block.subarray(265, 297)).toString('utf8') : '',
    gname: withNames ? cString(block.subarray(297, 329)).toString('utf8') : '',
    devmajor: withNames ? parseNumber(block.subarray(329, 337), 'devmajor') : 0,
    devminor: withNames ? parseNumber(block.subarray(337, 345), 'devminor') : 0,
    xattrs: new Map(),
    sparse: typeflag === 'S',
  };
}

/** PAX extended header records ("%d %s=%s\n"): key → raw value bytes. */
export function parsePaxRecords(data: Buffer, where: string): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    // GNU tar pads the last record with NULs in some versions.
    if (data[pos] === 0) break;
    const space = data.indexOf(0x20, pos);
    const lengthText = space === -1 ? '' : data.toString('latin1', pos, space);
    const length = /^[0-9]{1,9}$/.test(lengthText) ? parseInt(lengthText, 10) : NaN;
    if (!(length > space - pos + 1) || pos + length > data.length || data[pos + length - 1] !== 0x0a) {
      throw corrupt(`${where}: malformed PAX record at byte ${pos}`);
    }
    const record = data.subarray(space + 1, pos + length - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw corrupt(`${where}: malformed PAX record at byte ${pos}`);
    records.set(decodeName(record.subarray(0, eq), where), record.subarray(eq + 1));
    pos += length;
  }
  return records;
}

const XATTR = 'SCHILY.xattr.';

function paxInteger(value: string, key: string, where: string): number {
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw corrupt(`${where}: PAX ${key} ${JSON.stringify(value)} is not a valid number`);
  }
  return Number(value);
}

/** Applies PAX records (the global ones merged under the entry's own) to a parsed header. */
export function applyPax(header: TarHeader, records: Map<string, Buffer>, where: string): void {
  for (const [key, raw] of records) {
    // An empty value removes the key: the header's own field stands.
    if (raw.length === 0) continue;
    const value = key.startsWith(XATTR) ? '' : decodeName(raw, where);
    if (key.startsWith(XATTR)) header.xattrs.set(key.slice(XATTR.length), Buffer.from(raw));
    else if (key === 'path') header.path = value;
    else if (key === 'linkpath') header.linkpath = value;
    else if (key === 'size') header.size = HEADER_ONLY.has(header.kind) ? 0 : paxInteger(value, key, where);
    else if (key === 'uid') header.uid = paxInteger(value, key, where);
    else if (key === 'gid') header.gid = paxInteger(value, key, where);
    else if (key === 'uname') header.uname = value;
    else if (key === 'gname') header.gname = value;
    else if (key === 'mtime') {
      if (!/^-?[0-9]+(\.[0-9]+)?$/.test(value)) throw corrupt(`${where}: PAX mtime ${JSON.stringify(value)} is not a time`);
      header.mtime = Number(value);
    } else if (key.startsWith('GNU.sparse.')) header.sparse = true;
  }
}
