// Runs in a worker thread (started by unpack-pool.ts): unpacks one layer tar at a time with the
// same safe extractor, fed in chunks by the main thread, and answers with what the layer store
// records. Decompression, hashing, tar parsing and the file system calls of several layers then
// run on other cores than the daemon's API and downloads.
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { parentPort } from 'node:worker_threads';
import { BerthError } from '../../core/plugin-api.js';
import { decompressed } from './compression.js';
import { extractLayer, type WhiteoutMode } from './extract.js';
import { syncFs } from './fs-ops.js';
import type { ToWorker, FromWorker } from './unpack-protocol.js';

const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);

/** Chunks from the main thread, handed out in order; each one is acknowledged as it is taken. */
class Inbox {
  private readonly chunks: Buffer[] = [];
  private ended = false;
  private failure?: Error;
  private wake?: () => void;

  push(chunk: Buffer): void { this.chunks.push(chunk); this.wake?.(); }
  end(): void { this.ended = true; this.wake?.(); }
  fail(err: Error): void { this.failure = err; this.wake?.(); }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    for (;;) {
      if (this.failure) throw this.failure;
      const chunk = this.chunks.shift();
      if (chunk) {
        post({ type: 'ack', bytes: chunk.length });
        yield chunk;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

let inbox: Inbox | undefined;

async function unpack(box: Inbox, dir: string, whiteouts: WhiteoutMode): Promise<void> {
  try {
    const tar = await decompressed(Readable.from(box, { objectMode: false }));
    // diffID and tar size are of the uncompressed tar, counted on its way to the extractor.
    const hash = createHash('sha256');
    let tarSize = 0;
    const counted = new Transform({
      highWaterMark: 1 << 20,
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        tarSize += chunk.length;
        done(null, chunk);
      },
    });
    tar.on('error', (err) => counted.destroy(err));
    tar.pipe(counted);
    const { size, entries, tarSplit } = await extractLayer(counted, dir, { whiteouts, tarSplit: true, fs: syncFs });
    post({ type: 'done', result: { diffId: `sha256:${hash.digest('hex')}`, size, tarSize, entries, tarSplit: tarSplit! } });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    post({ type: 'error', error: { message: e?.message ?? String(err), code: err instanceof BerthError ? err.code : undefined, errno: e?.code } });
  } finally {
    inbox = undefined;
  }
}

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'start':
      inbox = new Inbox();
      void unpack(inbox, m.dir, m.whiteouts);
      break;
    case 'data':
      inbox?.push(Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength));
      break;
    case 'end':
      inbox?.end();
      break;
    case 'abort':
      inbox?.fail(new Error(m.reason));
      break;
  }
});
