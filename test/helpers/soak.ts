// The soak workload, shared by test/soak.test.ts and the soak benchmark: clients that each run
// `busybox true` through create → start → wait → rm over the API (keep-alive, unix socket), while
// readers list containers and images, until a round's operations are done.
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface SoakRound {
  /** create → start → wait → rm cycles that completed without error. */
  ops: number;
  /** Every failure, as "METHOD path → status body" or the client's error, in order. */
  errors: string[];
  seconds: number;
  /** Milliseconds of each whole cycle. */
  cycleMs: number[];
  /** List requests served during the round. */
  reads: number;
  /** Ids of the containers the round created (for leak checks). */
  ids: string[];
}

export interface SoakOptions {
  socket: string;
  image?: string;
  /** Concurrent lifecycle clients (50). */
  clients?: number;
  /** Cycles per round (200). */
  ops?: number;
  /** Concurrent list readers (100). */
  readers?: number;
  /** Each reader's pause between requests (500 ms: a client polling twice a second, as monitoring UIs do). */
  readerPauseMs?: number;
  /** HostConfig of the containers (default: no network). */
  hostConfig?: Record<string, unknown>;
}

interface Reply { status: number; body: string }

function call(agent: Agent, socketPath: string, method: string, path: string, body?: unknown): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers = data === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) };
    const req = request({ socketPath, agent, method, path, headers, timeout: 120_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(data);
  });
}

/** Runs one round; never throws for a failed request (it is counted and described instead). */
export async function soakRound(o: SoakOptions): Promise<SoakRound> {
  const clients = o.clients ?? 50;
  const total = o.ops ?? 200;
  const readers = o.readers ?? 100;
  const pause = o.readerPauseMs ?? 500;
  const agent = new Agent({ keepAlive: true, maxSockets: clients + readers });
  const errors: string[] = [];
  const cycleMs: number[] = [];
  const ids: string[] = [];
  let next = 0;
  let ops = 0;
  let reads = 0;
  let done = false;
  const expect = async (method: string, path: string, status: number[], body?: unknown): Promise<Reply | undefined> => {
    try {
      const r = await call(agent, o.socket, method, path, body);
      if (status.includes(r.status)) return r;
      errors.push(`${method} ${path} → ${r.status} ${r.body.trim()}`);
    } catch (err) {
      errors.push(`${method} ${path} → ${(err as Error).message}`);
    }
    return undefined;
  };
  const cycle = async () => {
    const t0 = performance.now();
    const created = await expect('POST', '/v1.41/containers/create', [201], {
      Image: o.image ?? 'busybox', Cmd: ['true'], HostConfig: o.hostConfig ?? { NetworkMode: 'none' },
    });
    if (!created) return;
    const id = JSON.parse(created.body).Id as string;
    ids.push(id);
    const ok = await expect('POST', `/v1.41/containers/${id}/start`, [204])
      && await expect('POST', `/v1.41/containers/${id}/wait`, [200]);
    // Removed even when a step failed, so one error does not become a leak as well.
    const removed = await expect('DELETE', `/v1.41/containers/${id}${ok ? '' : '?force=1'}`, [204]);
    if (ok && removed) {
      ops++;
      cycleMs.push(performance.now() - t0);
    }
  };
  const lifecycle = async () => { while (next < total) { next++; await cycle(); } };
  const reader = async (i: number) => {
    const paths = ['/v1.41/containers/json?all=1', '/v1.41/images/json'];
    for (let n = i; !done; n++) {
      if (await expect('GET', paths[n % 2], [200])) reads++;
      await new Promise((r) => setTimeout(r, pause));
    }
  };
  const start = performance.now();
  const reading = Promise.all(Array.from({ length: readers }, (_, i) => reader(i)));
  await Promise.all(Array.from({ length: clients }, lifecycle));
  const seconds = (performance.now() - start) / 1000;
  done = true;
  await reading;
  agent.destroy();
  return { ops, errors, seconds, cycleMs, reads, ids };
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** A gauge or counter from Prometheus text (the first series whose name and labels match). */
export function promValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** The daemon's Prometheus text from --metrics-addr 127.0.0.1:port (bounded: 10 s). */
export function scrapeMetrics(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', agent: false, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve(text));
    });
    req.on('timeout', () => req.destroy(new Error('/metrics timed out')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * The event-loop lag of an idle Node process beside the daemon: what the machine alone costs (a
 * process waiting for a core on a loaded machine sees lag too), to read the daemon's figure by.
 */
export interface LagProbe {
  /** p99 and max in ms since the previous read (or the start). */
  read(): Promise<{ p99: number; max: number }>;
  stop(): void;
}

const PROBE = `const h = require('node:perf_hooks').monitorEventLoopDelay({ resolution: 10 }); h.enable();
process.stdin.on('data', () => { console.log(JSON.stringify({ p99: h.percentile(99) / 1e6, max: h.max / 1e6 })); h.reset(); });
process.stdin.on('end', () => process.exit(0));`;

export function startLagProbe(): LagProbe {
  const child = spawn(process.execPath, ['-e', PROBE], { stdio: ['pipe', 'pipe', 'ignore'] });
  let buf = '';
  const waiting: ((line: string) => void)[] = [];
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (s: string) => {
    buf += s;
    for (let nl; (nl = buf.indexOf('\n')) >= 0; buf = buf.slice(nl + 1)) waiting.shift()?.(buf.slice(0, nl));
  });
  return {
    read: () => new Promise((resolve) => {
      const answer = (line: string) => { clearTimeout(timer); resolve(JSON.parse(line)); };
      const timer = setTimeout(() => { waiting.splice(waiting.indexOf(answer), 1); resolve({ p99: NaN, max: NaN }); }, 5_000);
      waiting.push(answer);
      child.stdin!.write('?');
    }),
    stop: () => { child.stdin!.end(); child.kill(); },
  };
}
