// Requests per second for cheap endpoints over keep-alive connections on the unix socket.
// The warm-up matters: a cold Berth (JIT) answers at about half its steady rate.
import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Benchmark } from './benchmark.js';
import { withDaemon } from './daemons.js';
import { getStatus } from './unix-http.js';

const CONCURRENCY = 16;
const MAX_REQUESTS = 20_000;
const MAX_MS = 5_000;
const WARMUP_REQUESTS = 3_000;
const WARMUP_MS = 1_000;

interface Run {
  ok: number;
  errors: number;
  rps: number;
}

/** CONCURRENCY loops, each with one request in flight, until the count or the time runs out. */
async function hammer(socket: string, path: string, agent: Agent, maxRequests: number, maxMs: number): Promise<Run> {
  let started = 0;
  let ok = 0;
  let errors = 0;
  const t0 = performance.now();
  const deadline = t0 + maxMs;
  const loop = async () => {
    while (started < maxRequests && performance.now() < deadline) {
      started++;
      const status = await getStatus(socket, path, agent).catch(() => 0);
      if (status === 200) ok++;
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  return { ok, errors, rps: ok / ((performance.now() - t0) / 1000) };
}

export async function measurePath(socket: string, path: string): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    await hammer(socket, path, agent, WARMUP_REQUESTS, WARMUP_MS);
    const run = await hammer(socket, path, agent, MAX_REQUESTS, MAX_MS);
    // A few failures would flatter the figure: refuse rather than report it.
    if (run.errors > run.ok / 100) throw new Error(`GET ${path}: ${run.errors} failed requests out of ${run.ok + run.errors}`);
    return run.rps;
  } finally {
    agent.destroy();
  }
}

export const throughput: Benchmark = {
  name: 'throughput',
  metrics: ['pingRps', 'versionRps'],
  run: (spec) => withDaemon(spec, async (d) => ({
    pingRps: await measurePath(d.socket, '/_ping'),
    versionRps: await measurePath(d.socket, '/version'),
  })),
};
