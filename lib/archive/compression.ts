// Compression: recognised by magic bytes. Layers: gzip only, decompressed in process. Whole image
// archives (docker load) also bzip2 and xz, as dockerd's DecompressStream: those stream through
// the host's own /usr/bin tools, never a binary found inside an image or archive (CVE-2014-9357),
// outside any chroot, reading stdin and writing stdout only.
import { spawn } from 'node:child_process';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BerthError } from '../../core/plugin-api.js';

const GZIP = Buffer.from([0x1f, 0x8b, 0x08]);
const ZSTD = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const XZ = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const BZIP2 = Buffer.from('BZh');
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
  return decompress(input, 'layer');
}

/**
 * The tar inside a docker load archive: plain, gzip, bzip2 or xz, as dockerd accepts. bzip2 and xz
 * stream through the host's `bzip2 -dc` and `xz -dc` (their failure is the stream's error).
 */
export async function decompressedArchive(input: Readable): Promise<Readable> {
  return decompress(input, 'archive');
}

/**
 * A host decompressor fed from `whole`: its stdout, which ends only once the tool has exited 0
 * (a corrupt input fails with the tool's message, never as a truncated tar).
 */
function hostTool(whole: Readable, tool: 'bzip2' | 'xz'): Readable {
  const child = spawn(`/usr/bin/${tool}`, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { if (stderr.length < 4096) stderr += d.toString(); });
  const exited = new Promise<string | null>((resolve) => {
    child.once('error', (err) => resolve(err.message));
    child.once('close', (code, signal) => resolve(code === 0 ? null : stderr.trim() || `exit ${code ?? signal}`));
  });
  // The tool may quit before reading all (corrupt input): its stdin then errors with EPIPE.
  pipeline(whole, child.stdin, () => {});
  return Readable.from((async function* () {
    try {
      for await (const chunk of child.stdout) yield chunk as Buffer;
      const why = await exited;
      if (why !== null) throw new BerthError('E_INVALID', `invalid archive: ${tool}: ${why}`);
    } finally {
      // A consumer that stopped early (a refused archive) ends the tool too.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  })(), { objectMode: false });
}

/**
 * The first `n` bytes of a stream (fewer when it is shorter) and a stream of all of it, the peeked
 * bytes in front: the way to judge an input by its magic bytes without losing them.
 */
export async function peekStream(input: Readable, n: number): Promise<{ head: Buffer; whole: Readable }> {
  const iterator = input[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const head: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < n) {
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
  return { head: peeked, whole };
}

async function decompress(input: Readable, what: 'layer' | 'archive'): Promise<Readable> {
  const { head: peeked, whole } = await peekStream(input, PEEK);
  const refuse = (kind: string) => {
    input.destroy();
    return new BerthError('E_INVALID', what === 'layer'
      ? `invalid layer archive: ${kind}-compressed layers are not supported`
      : `invalid archive: ${kind}-compressed archives are not supported`);
  };
  if (startsWith(peeked, ZSTD)) throw refuse('zstd');
  if (what === 'layer' && startsWith(peeked, XZ)) throw refuse('xz');

  if (what === 'archive' && startsWith(peeked, XZ)) return hostTool(whole, 'xz');
  if (what === 'archive' && startsWith(peeked, BZIP2)) return hostTool(whole, 'bzip2');
  if (!isGzip(peeked)) return whole;
  // Big output chunks: with the default 16 KiB, a callback and a buffer per 16 KiB on the main
  // thread made gunzip three times slower (50 MB: ~300 ms of CPU against ~70 ms with 1 MiB).
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  // pipeline destroys gunzip with the input's error, so the consumer sees it.
  pipeline(whole, gunzip, () => {});
  return gunzip;
}
