// A tar writer for tests, independent of the library's own: it writes whatever it is told,
// malicious names included, in GNU, USTAR or PAX form, so the reader is tested against bytes
// it did not produce itself.

const BLOCK = 512;
const TYPES: Record<string, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };

export interface TarSpec {
  name: string;
  /** A kind, or a raw typeflag character. */
  type?: 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo' | string;
  data?: Buffer | string;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  devmajor?: number;
  devminor?: number;
  /** PAX records for an 'x' header before this entry. */
  pax?: Record<string, string | Buffer>;
  /** How a name over 100 bytes is carried: a GNU 'L' entry (default) or a PAX path record. */
  longName?: 'gnu' | 'pax';
  /** Numeric fields written in GNU base-256 form. */
  base256?: ('uid' | 'gid' | 'size' | 'mtime')[];
}

function octal(value: number, length: number): Buffer {
  return Buffer.from(`${value.toString(8).padStart(length - 1, '0')}\0`, 'latin1');
}

function base256(value: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let v = BigInt(value);
  for (let i = length - 1; i > 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  out[0] = 0x80;
  return out;
}

function header(fields: {
  name: Buffer; typeflag: string; size: number; mode?: number; uid?: number; gid?: number; mtime?: number;
  linkname?: Buffer; devmajor?: number; devminor?: number; gnu?: boolean; base256?: string[];
}): Buffer {
  const b = Buffer.alloc(BLOCK);
  fields.name.copy(b, 0, 0, Math.min(100, fields.name.length));
  const num = (key: string, value: number, offset: number, length: number) =>
    (fields.base256?.includes(key) ? base256(value, length) : octal(value, length)).copy(b, offset);
  num('mode', fields.mode ?? 0o644, 100, 8);
  num('uid', fields.uid ?? 0, 108, 8);
  num('gid', fields.gid ?? 0, 116, 8);
  num('size', fields.size, 124, 12);
  num('mtime', fields.mtime ?? 1_600_000_000, 136, 12);
  b.write(fields.typeflag, 156, 1, 'latin1');
  fields.linkname?.copy(b, 157, 0, Math.min(100, fields.linkname.length));
  b.write(fields.gnu ? 'ustar  \0' : 'ustar\u000000', 257, 8, 'latin1');
  octal(fields.devmajor ?? 0, 8).copy(b, 329);
  octal(fields.devminor ?? 0, 8).copy(b, 337);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return b;
}

const pad = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

function withData(head: Buffer, data: Buffer): Buffer[] {
  return [head, data, pad(data.length)];
}

function paxRecords(records: Record<string, string | Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of Object.entries(records)) {
    const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from('\n')]);
    let length = body.length + 1;
    while (String(length).length + body.length !== length) length++;
    parts.push(Buffer.from(String(length)), body);
  }
  return Buffer.concat(parts);
}

export function tarEntry(spec: TarSpec): Buffer {
  const parts: Buffer[] = [];
  const name = Buffer.from(spec.name);
  const data = Buffer.from(spec.data ?? '');
  const typeflag = TYPES[spec.type ?? 'file'] ?? spec.type!;
  const pax: Record<string, string | Buffer> = { ...spec.pax };
  let headerName = name;
  if (name.length > 100) {
    if (spec.longName === 'pax') {
      pax.path = spec.name;
      headerName = name.subarray(name.length - 100);
    } else {
      const long = Buffer.concat([name, Buffer.from([0])]);
      parts.push(...withData(header({ name: Buffer.from('././@LongLink'), typeflag: 'L', size: long.length, gnu: true }), long));
    }
  }
  const link = Buffer.from(spec.linkname ?? '');
  if (link.length > 100) {
    const long = Buffer.concat([link, Buffer.from([0])]);
    parts.push(...withData(header({ name: Buffer.from('././@LongLink'), typeflag: 'K', size: long.length, gnu: true }), long));
  }
  if (Object.keys(pax).length > 0) {
    const records = paxRecords(pax);
    parts.push(...withData(header({ name: Buffer.from('PaxHeader'), typeflag: 'x', size: records.length }), records));
  }
  const hasData = typeflag === '0' || !'123456'.includes(typeflag);
  parts.push(...withData(header({
    name: headerName, typeflag, size: hasData ? data.length : 0, mode: spec.mode, uid: spec.uid, gid: spec.gid,
    mtime: spec.mtime, linkname: link, devmajor: spec.devmajor, devminor: spec.devminor, base256: spec.base256,
  }), hasData ? data : Buffer.alloc(0)));
  return Buffer.concat(parts);
}

/** A whole archive: the entries, then two zero blocks, then `extraZeros` more zero bytes. */
export function buildTar(entries: TarSpec[], opts: { extraZeros?: number; globalPax?: Record<string, string> } = {}): Buffer {
  const parts: Buffer[] = [];
  if (opts.globalPax) {
    const records = paxRecords(opts.globalPax);
    parts.push(...withData(header({ name: Buffer.from('pax_global_header'), typeflag: 'g', size: records.length }), records));
  }
  for (const spec of entries) parts.push(tarEntry(spec));
  parts.push(Buffer.alloc(2 * BLOCK + (opts.extraZeros ?? 0)));
  return Buffer.concat(parts);
}
