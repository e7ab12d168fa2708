// Layer tars unpacked in worker threads (unpack-worker.ts): the main thread only forwards the
// tar's bytes, so decompression, hashing, tar parsing and the per-file system calls of several
// layers run on other cores. Measured on a pull of five 20 MB layers, the main thread was the
// bottleneck (~85% busy) when it did all of that itself. Workers are started on demand and end
// after a while idle; an idle worker never keeps the daemon alive.
import { availableParallelism } from 'node:os';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { BerthError, isErrorCode, systemError } from '../../core/plugin-api.js';
import type { FromWorker, ToWorker, UnpackResult } from './unpack-protocol.js';
import type { WhiteoutMode } from './write-entry.js';

export type { UnpackResult } from './unpack-protocol.js';

/** Bytes sent to a worker and not yet taken by its extractor: beyond this the source pauses. */
const WINDOW = 8 << 20;
// Both read when used, not when the module loads: the start-up snapshot evaluates modules at build time.
/** How long an idle worker waits for the next layer (the variable is for tests). */
const idleMs = () => Number(process.env.BERTH_UNPACK_IDLE_MS) || 10_000;
// More workers than cores only adds switching: the work is CPU (and kernel) bound.
const maxWorkers = () => Math.max(2, Math.min(4, availableParallelism()));
const WORKER_URL = new URL('./unpack-worker.js', import.meta.url);

interface Slot {
  worker: Worker;
  alive: boolean;
  idleTimer?: NodeJS.Timeout;
}

class UnpackPool {
  private readonly idle: Slot[] = [];
  private count = 0;
  private readonly waiting: ((slot: Slot) => void)[] = [];

  /**
   * Unpacks `tar` (plain or gzip) into `dir` as extractLayer does (same refusals), recording its
   * diffID, sizes and tar-split. A failure of the source (e.g. a download that failed its digest)
   * is what the promise rejects with, after the worker stopped writing; the extractor's own errors
   * keep their code and start with `context`.
   */
  async unpack(tar: Readable, dir: string, whiteouts: WhiteoutMode, context: string): Promise<UnpackResult> {
    // The source's errors are answered through the promise: none may become an unhandled 'error'
    // event, whenever its owner destroys it (while it waits for a worker, or after the answer).
    tar.on('error', () => {});
    const slot = await this.acquireFor(tar);
    try {
      return await feed(slot, tar, dir, whiteouts, context);
    } finally {
      this.release(slot);
    }
  }

  /** Ends the idle workers (busy ones end when their layer is done). */
  async close(): Promise<void> {
    const idle = this.idle.splice(0);
    await Promise.all(idle.map((s) => { clearTimeout(s.idleTimer); return s.worker.terminate(); }));
  }

  /**
   * A worker for this source. While it waits for one, the source may fail or its owner cancel it:
   * that is then the answer, and its place in the queue is given up.
   */
  private acquireFor(tar: Readable): Promise<Slot> {
    const slot = this.idle.pop();
    if (slot) {
      clearTimeout(slot.idleTimer);
      slot.worker.ref();
      return Promise.resolve(slot);
    }
    if (this.count < maxWorkers()) return Promise.resolve(this.start());
    if (tar.destroyed) return Promise.reject(tar.errored ?? new Error('the layer tar was closed before its end'));
    return new Promise((resolve, reject) => {
      const waiter = (s: Slot) => { tar.off('error', onError).off('close', onClose); resolve(s); };
      const giveUp = (err: Error) => {
        const i = this.waiting.indexOf(waiter);
        if (i < 0) return;
        this.waiting.splice(i, 1);
        tar.off('error', onError).off('close', onClose);
        reject(err);
      };
      const onError = (err: Error) => giveUp(err);
      const onClose = () => giveUp(new Error('the layer tar was closed before its end'));
      tar.on('error', onError).on('close', onClose);
      this.waiting.push(waiter);
    });
  }

  private start(): Slot {
    this.count++;
    const slot: Slot = { worker: new Worker(WORKER_URL), alive: true };
    // An error is also reported to the layer being unpacked (see feed); here only the bookkeeping.
    slot.worker.on('error', () => {});
    slot.worker.once('exit', () => {
      slot.alive = false;
      this.count--;
      const i = this.idle.indexOf(slot);
      if (i >= 0) this.idle.splice(i, 1);
      clearTimeout(slot.idleTimer);
      // A waiter may start the worker this one made room for.
      const next = this.waiting.shift();
      if (next) next(this.start());
    });
    return slot;
  }

  private release(slot: Slot): void {
    if (!slot.alive) return; // its exit handler made room
    const next = this.waiting.shift();
    if (next) { next(slot); return; }
    slot.worker.unref();
    slot.idleTimer = setTimeout(() => void slot.worker.terminate(), idleMs()).unref();
    this.idle.push(slot);
  }
}

function feed(slot: Slot, tar: Readable, dir: string, whiteouts: WhiteoutMode, context: string): Promise<UnpackResult> {
  const { worker } = slot;
  const post = (m: ToWorker) => worker.postMessage(m);
  return new Promise<UnpackResult>((resolve, reject) => {
    let unacked = 0;
    let ended = false;
    let sourceError: Error | undefined;
    const settle = (err: Error | undefined, result?: UnpackResult) => {
      tar.off('data', onData).off('end', onEnd).off('error', onSourceError).off('close', onClose);
      worker.off('message', onMessage).off('error', onWorkerError).off('exit', onExit);
      // Whatever the extractor did not read is not wanted any more (closes the source's file).
      if (!ended) tar.destroy();
      if (err) reject(err);
      else resolve(result!);
    };
    const onMessage = (m: FromWorker) => {
      if (m.type === 'ack') {
        unacked -= m.bytes;
        if (unacked < WINDOW && tar.isPaused() && !ended) tar.resume();
      } else if (m.type === 'done') {
        settle(sourceError, m.result);
      } else {
        settle(sourceError ?? rebuild(m.error, context));
      }
    };
    const onWorkerError = (err: Error) => {
      slot.alive = false;
      void worker.terminate();
      settle(sourceError ?? systemError(`${context}: unpacking worker failed: ${err.message}`, err));
    };
    const onExit = (code: number) => settle(sourceError ?? systemError(`${context}: unpacking worker exited with code ${code}`));
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      post({ type: 'data', chunk: bytes });
      unacked += bytes.length;
      if (unacked >= WINDOW) tar.pause();
    };
    const onEnd = () => {
      ended = true;
      post({ type: 'end' });
    };
    const onSourceError = (err: Error) => {
      if (sourceError) return;
      sourceError = err;
      post({ type: 'abort', reason: err.message });
    };
    const onClose = () => { if (!ended) onSourceError(new Error('the layer tar was closed before its end')); };
    // Destroyed between getting the worker and now: its events are gone, its error stays.
    if (tar.destroyed) {
      reject(tar.errored ?? new Error('the layer tar was closed before its end'));
      return;
    }
    worker.on('message', onMessage).on('error', onWorkerError).on('exit', onExit);
    post({ type: 'start', dir, whiteouts });
    tar.on('data', onData).on('end', onEnd).on('error', onSourceError).on('close', onClose);
  });
}

/** The worker's error as the extractor would have thrown it in this thread. */
function rebuild(e: { message: string; code?: string; errno?: string }, context: string): Error {
  const message = `${context}: ${e.message}`;
  if (isErrorCode(e.code)) return new BerthError(e.code, message);
  return Object.assign(systemError(message), e.errno ? { errno: e.errno } : {});
}

const pool = new UnpackPool();

/** Unpacks a layer tar in a worker thread; see UnpackPool.unpack. */
export const unpackLayer = (tar: Readable, dir: string, whiteouts: WhiteoutMode, context: string) => pool.unpack(tar, dir, whiteouts, context);

/** Ends idle unpacking workers (daemon shutdown). */
export const closeUnpackWorkers = () => pool.close();
