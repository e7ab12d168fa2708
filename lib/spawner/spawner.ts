// Host commands run from a thread of their own (spawner-worker.ts), so that forking the daemon
// never stalls its event loop: measured under the soak (50 clients running containers), spawn()
// on the main thread took 9 of 28 seconds of its CPU, about 13 ms a call, 7 calls a container.
// The thread starts on first use and is unref'd while nothing is pending: it never keeps a
// process alive by itself. It ends after IDLE_MS with nothing pending and no child of its alive
// (a thread costs ~10 MiB; an idle daemon need not keep one), and starts again when needed.
import { Worker } from 'node:worker_threads';
import type { DoneReply, ExitNotice, PipedRequest, PipeNotice, Request, SpawnReply, SpawnRequest, StartReply, StartRequest } from './protocol.js';

export type { SpawnReply } from './protocol.js';

const WORKER_URL = new URL('./spawner-worker.js', import.meta.url);
/** How long the thread waits, idle, before it ends. */
const IDLE_MS = 500;

type Reply = SpawnReply | StartReply | DoneReply;
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

class Spawner {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, (r: Reply) => void>();
  /** Children started from the thread and not yet exited: the thread reaps them, so it stays. */
  private readonly children = new Set<number>();
  /** Where the output of piped children goes (PipedRequest), by their id: null once a pipe ended. */
  private readonly pipeReaders = new Map<number, (fd: number, data: string | null) => void>();
  private idleTimer: NodeJS.Timeout | undefined;
  private nextId = 1;

  /** Sends a request; `id` is the one it was sent with (a StartRequest's names its child). */
  send<R extends Reply>(req: WithoutId<Request>, id = this.nextId++): Promise<R> {
    const w = this.ensure();
    clearTimeout(this.idleTimer);
    if (req.kind === 'start' || req.kind === 'piped') this.children.add(id);
    return new Promise((resolve) => {
      this.pending.set(id, resolve as (r: Reply) => void);
      if (this.pending.size === 1) w.ref();
      w.postMessage({ id, ...req });
    });
  }

  newId(): number {
    return this.nextId++;
  }

  /** Receives the output of the piped child `id` (sent with that id) until it is released or ends. */
  readPipes(id: number, reader: (fd: number, data: string | null) => void): void {
    this.pipeReaders.set(id, reader);
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(WORKER_URL);
    w.unref();
    w.on('message', (r: Reply | ExitNotice | PipeNotice) => {
      if ('fd' in r) {
        this.pipeReaders.get(r.child)?.(r.fd, r.data ?? null);
        return;
      }
      if ('exited' in r) {
        this.children.delete(r.exited);
        this.pipeReaders.delete(r.exited);
      } else {
        const done = this.pending.get(r.id);
        this.pending.delete(r.id);
        // A child that could not start sends no exit notice.
        if (this.children.has(r.id) && (r as StartReply).pid === undefined) this.children.delete(r.id);
        if (this.pending.size === 0) w.unref();
        done?.(r);
      }
      this.endWhenIdle(w);
    });
    // A thread that died takes its pending commands with it: they fail, the next call starts a new
    // one. Children it started and had not told to stay see their stdin close.
    const fail = (why: string) => {
      // A thread ended for being idle had nothing pending: what is pending now is its successor's.
      if (this.worker !== w) return;
      this.worker = undefined;
      for (const [id, done] of this.pending) done({ id, code: null, signal: null, stdout: '', stderr: '', error: { message: `spawner thread ${why}` } });
      this.pending.clear();
      // Piped children's pipes died with it: their readers see every pipe end.
      for (const [id, reader] of this.pipeReaders) {
        this.children.delete(id);
        for (const fd of [2, 3, 4, 5]) reader(fd, null);
      }
      this.pipeReaders.clear();
    };
    w.on('error', (err) => fail(`failed: ${err.message}`));
    w.on('exit', (code) => fail(`exited (${code})`));
    this.worker = w;
    return w;
  }

  private endWhenIdle(w: Worker): void {
    clearTimeout(this.idleTimer);
    if (this.pending.size || this.children.size) return;
    this.idleTimer = setTimeout(() => {
      if (this.worker !== w || this.pending.size || this.children.size) return;
      this.worker = undefined;
      void w.terminate();
    }, IDLE_MS);
    this.idleTimer.unref();
  }
}

const spawner = new Spawner();

/** Runs a command to its end from the spawner thread. */
export function spawnCollect(req: Omit<SpawnRequest, 'id'>): Promise<SpawnReply> {
  return spawner.send<SpawnReply>({ kind: 'run', ...req });
}

/** A child started from the spawner thread that may live on (startChild). */
export interface StartedChild {
  /** Its pid and first stdout line; rejects when it could not start, exited first or gave none in time. */
  readonly answer: Promise<{ pid: number; line: string }>;
  /** Writes `input` to its stdin and closes it: it runs on alone. */
  stay(input: string): Promise<void>;
  /** SIGKILLs it; resolves once it exited (at once when it had already). */
  kill(): Promise<void>;
}

/**
 * Starts a long-lived child from the spawner thread (no fork on the event loop), with `fds` — open
 * descriptors of this process, such as listening sockets — as its fds 3, 4, …; they are
 * duplicated at the fork, the caller keeps (and may close) its own. Until stay(), its stdin is a
 * pipe this process holds: if the daemon dies, the child reads end-of-file.
 */
export function startChild(req: Omit<StartRequest, 'id' | 'kind'>): StartedChild {
  const id = spawner.newId();
  const answer = spawner.send<StartReply>({ kind: 'start', ...req }, id).then((r) => {
    if (r.error || r.pid === undefined || r.line === undefined) {
      throw Object.assign(new Error(`${req.cmd}: ${r.error?.message ?? 'no answer'}`), { code: r.error?.code });
    }
    return { pid: r.pid, line: r.line };
  });
  answer.catch(() => {}); // the caller may kill it without waiting for its answer
  return {
    answer,
    stay: async (input) => { await spawner.send<DoneReply>({ kind: 'stay', child: id, input }); },
    kill: async () => { await spawner.send<DoneReply>({ kind: 'kill', child: id }); },
  };
}

/** A child started from the spawner thread whose stderr and fds 3, 4, … are pipes relayed to this thread (startPiped). */
export interface PipedChild {
  /** Its pid; rejects when it could not be started. */
  readonly spawned: Promise<number>;
  /** Writes to its pipe `fd`. */
  write(fd: number, data: string): Promise<void>;
  /** Closes this side of its pipes. */
  release(): Promise<void>;
}

/**
 * Starts a child from the spawner thread (no fork on the event loop) with pipes as its stderr and
 * fds 3 … 2 + `pipes`; `onData` receives what it writes on them, and null once one ended (after a
 * release, or when the child and everything it passed them to closed them).
 */
export function startPiped(req: Omit<PipedRequest, 'id' | 'kind'>, onData: (fd: number, data: string | null) => void): PipedChild {
  const id = spawner.newId();
  spawner.readPipes(id, onData);
  const spawned = spawner.send<StartReply>({ kind: 'piped', ...req }, id).then((r) => {
    if (r.error || r.pid === undefined) throw Object.assign(new Error(`${req.cmd}: ${r.error?.message ?? 'not started'}`), { code: r.error?.code });
    return r.pid;
  });
  spawned.catch(() => {});
  return {
    spawned,
    write: async (fd, data) => { await spawner.send<DoneReply>({ kind: 'write', child: id, fd, data }); },
    release: async () => { await spawner.send<DoneReply>({ kind: 'release', child: id }); },
  };
}
