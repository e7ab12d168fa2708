// A blob being downloaded into a private file that the extractor reads while it grows: layers are
// decompressed and unpacked as they arrive, yet the reader ends only once the whole blob matched
// its digest (a mismatch makes the reader fail, so the layer store throws the layer away).
import { EventEmitter, once } from 'node:events';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';

export class RewoundError extends Error {
  constructor() { super('the download started over'); }
}

const FLUSH_BYTES = 1 << 20;

export class BlobSpool {
  private fh?: FileHandle;
  private written = 0;
  /** Bytes received and not yet in the file. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bumped when the download starts over (a server without range support): readers restart. */
  private generation = 0;
  private state: 'running' | 'done' | 'failed' = 'running';
  private error?: Error;
  private readonly changes = new EventEmitter();
  /** Resolves when the download ends: undefined when verified, else its error. */
  readonly settled: Promise<Error | undefined>;
  private settle!: (e: Error | undefined) => void;

  constructor(readonly file: string) {
    this.settled = new Promise((resolve) => (this.settle = resolve));
  }

  /** Appends the next bytes of the blob (position: where they start, for a check). */
  async write(chunk: Buffer, position: number): Promise<void> {
    if (position !== this.written + this.pendingBytes) throw new Error(`blob spool ${this.file}: write at ${position}, expected ${this.written + this.pendingBytes}`);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
  }

  /**
   * Network reads are ~64 KiB: written one by one, they cost a thread-pool round trip each on the
   * daemon's main thread (and as many reads for the extractor), so they go to the file in batches.
   */
  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const data = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.fh ??= await open(this.file, 'w', 0o600);
    await this.fh.write(data, 0, data.length, this.written);
    this.written += data.length;
    this.changes.emit('change');
  }

  async restart(): Promise<void> {
    this.pending = [];
    this.pendingBytes = 0;
    this.fh ??= await open(this.file, 'w', 0o600);
    await this.fh.truncate(0);
    this.written = 0;
    this.generation++;
    this.changes.emit('change');
  }

  async finish(err?: Error): Promise<void> {
    if (!err) await this.flush().catch((e: Error) => (err = e));
    await this.fh?.close().catch(() => {});
    this.fh = undefined;
    this.state = err ? 'failed' : 'done';
    this.error = err;
    this.changes.emit('change');
    this.settle(err);
  }

  /** The blob's bytes from the start, as they arrive; ends when verified, fails when not. */
  reader(onRead?: (n: number) => void): Readable {
    const spool = this;
    const generation = this.generation;
    let pos = 0;
    let fh: FileHandle | undefined;
    return new Readable({
      highWaterMark: 1 << 20,
      read(size) {
        void (async () => {
          for (;;) {
            if (spool.generation !== generation) throw new RewoundError();
            if (pos < spool.written) {
              fh ??= await open(spool.file, 'r');
              const n = Math.min(Math.max(size, 64 << 10), 1 << 20, spool.written - pos);
              const buf = Buffer.allocUnsafe(n);
              const { bytesRead } = await fh.read(buf, 0, n, pos);
              pos += bytesRead;
              onRead?.(pos);
              this.push(buf.subarray(0, bytesRead));
              return;
            }
            if (spool.state === 'failed') throw spool.error;
            if (spool.state === 'done') { this.push(null); return; }
            await once(spool.changes, 'change');
          }
        })().catch((err) => this.destroy(err));
      },
      destroy(err, cb) {
        void (fh?.close() ?? Promise.resolve()).catch(() => {}).then(() => cb(err));
      },
    });
  }
}
