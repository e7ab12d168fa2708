// Layer compression: recognised by magic bytes, decompressed in process (never by an external
// binary, see security notes on CVE-2014-9357), gzip only, as dockerd accepts for layers.
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BerthError } from '../../core/plugin-api.js';

const GZIP = Buffer.from([0x1f, 0x8b, 0x08]);
const ZSTD = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const XZ = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const PEEK = 6;

const startsWith = (buf: Buffer, magic: Buffer) =>
  buf.length >= magic.length && buf.subarray(0, magic.length).equals(magic);

export function isGzip(buf: Buffer): boolean {
  return startsWith(buf, GZIP);
}

/**
 * The tar stream inside `input`: the input itself when it is not compressed (or not recognised:
 * the tar parser judges), a gunzip stream when it is gzip. zstd and xz are refused clearly.
 */
export async function decompressed(input: Readable): Promise<Readable> {
  const iterator = input[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const head: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < PEEK) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    head.push(chunk);
    length += chunk.length;
  }
  const peeked = Buffer.concat(head, length);
  const refuse = (what: string) => {
    input.destroy();
    return new BerthError('E_INVALID', `invalid layer archive: ${what}-compressed layers are not supported`);
  };
  if (startsWith(peeked, ZSTD)) throw refuse('zstd');
  if (startsWith(peeked, XZ)) throw refuse('xz');

  // The peeked bytes go back in front of the rest; the iterator keeps back-pressure.
  const whole = Readable.from(
    (async function* () {
      if (peeked.length > 0) yield peeked;
      if (ended) return;
      try {
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
      } finally {
        await iterator.return?.(); // stopped early: destroy the input too
      }
    })(),
    { objectMode: false },
  );
  if (!isGzip(peeked)) return whole;
  // Big output chunks: with the default 16 KiB, a callback and a buffer per 16 KiB on the main
  // thread made gunzip three times slower (50 MB: ~300 ms of CPU against ~70 ms with 1 MiB).
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  // pipeline destroys gunzip with the input's error, so the consumer sees it.
  pipeline(whole, gunzip, () => {});
  return gunzip;
}
