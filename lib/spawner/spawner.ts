// Host commands run from a thread of their own (spawner-worker.ts), so that forking the daemon
// never stalls its event loop: measured under the soak (50 clients running containers), spawn()
// on the main thread took 9 of 28 seconds of its CPU, about 13 ms a call, 7 calls a container.
// The thread starts on first use and is unref'd while nothing is pending: it never keeps a
// process alive by itself.
import { Worker } from 'node:worker_threads';
import type { SpawnReply, SpawnRequest } from './protocol.js';

export type { SpawnReply } from './protocol.js';

const WORKER_URL = new URL('./spawner-worker.js', import.meta.url);

class Spawner {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, (r: SpawnReply) => void>();
  private nextId = 1;

  run(req: Omit<SpawnRequest, 'id'>): Promise<SpawnReply> {
    const w = this.ensure();
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      if (this.pending.size === 1) w.ref();
      w.postMessage({ id, ...req } satisfies SpawnRequest);
    });
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(WORKER_URL);
    w.unref();
    w.on('message', (r: SpawnReply) => {
      const done = this.pending.get(r.id);
      this.pending.delete(r.id);
      if (this.pending.size === 0) w.unref();
      done?.(r);
    });
    // A thread that died takes its pending commands with it: they fail, the next call starts a new one.
    const fail = (why: string) => {
      if (this.worker === w) this.worker = undefined;
      for (const [id, done] of this.pending) done({ id, code: null, signal: null, stdout: '', stderr: '', error: { message: `spawner thread ${why}` } });
      this.pending.clear();
    };
    w.on('error', (err) => fail(`failed: ${err.message}`));
    w.on('exit', (code) => fail(`exited (${code})`));
    this.worker = w;
    return w;
  }
}

const spawner = new Spawner();

/** Runs a command to its end from the spawner thread. */
export function spawnCollect(req: Omit<SpawnRequest, 'id'>): Promise<SpawnReply> {
  return spawner.run(req);
}
