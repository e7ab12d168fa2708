// What the container benchmarks share: a daemon with the same busybox image imported from the
// same root file system tar, containers made through the API, and the removal of every
// container the benchmark made before the daemon stops (cleanup kills what remains).
import { performance } from 'node:perf_hooks';
import { makeBusyboxRootfs, type RootfsTar } from '../helpers/rootfs.js';
import { scratchDir, withDaemon, type Daemon, type DaemonSpec } from './daemons.js';
import { dockerOk } from './docker-cli.js';
import { apiCall } from './unix-http.js';

export const IMAGE = 'busybox:latest';
/** No network at all for both daemons (dockerd runs with --bridge=none anyway). */
export const RUN_ARGS = ['--network', 'none'];

let rootfs: RootfsTar | undefined;
/** Built once per bench run from the host's busybox-static; shared by every daemon and bare runc. */
export function busyboxTar(): RootfsTar {
  rootfs ??= makeBusyboxRootfs(scratchDir('busybox'));
  return rootfs;
}

/** Runs fn on a fresh daemon holding the busybox image; removes every container afterwards. */
export function withBusybox<T>(spec: DaemonSpec, fn: (d: Daemon) => Promise<T>): Promise<T> {
  return withDaemon(spec, async (d) => {
    await dockerOk(d, ['import', '-c', 'CMD ["sh"]', busyboxTar().path, IMAGE]);
    try {
      return await fn(d);
    } finally {
      await removeAll(d);
    }
  });
}

async function call(d: Daemon, method: string, path: string, body?: unknown): Promise<string> {
  const r = await apiCall(d.socket, method, path, body).catch((err: Error) => ({ status: 0, body: err.message }));
  if (r.status < 200 || r.status > 299) throw new Error(`${method} ${path}: HTTP ${r.status}: ${r.body.slice(0, 500)}\n${d.logs().slice(-4000)}`);
  return r.body;
}

export async function createContainer(d: Daemon, cmd: string[]): Promise<string> {
  const body = await call(d, 'POST', '/containers/create', { Image: IMAGE, Cmd: cmd, HostConfig: { NetworkMode: 'none' } });
  return (JSON.parse(body) as { Id: string }).Id;
}

export const startContainer = (d: Daemon, id: string) => call(d, 'POST', `/containers/${id}/start`);
export const stopContainer = (d: Daemon, id: string, seconds: number) => call(d, 'POST', `/containers/${id}/stop?t=${seconds}`);
export const removeContainer = (d: Daemon, id: string, force = false) => call(d, 'DELETE', `/containers/${id}${force ? '?force=1' : ''}`);

/** Milliseconds fn took. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Calls fn(0..count-1) with at most `concurrency` calls in flight; the first failure wins. */
export async function pool<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < count && !failed) {
      const i = next++;
      try {
        out[i] = await fn(i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return out;
}

/** `count` containers running cmd (started when start is true), four requests in flight. */
export function makeContainers(d: Daemon, count: number, cmd: string[], start: boolean): Promise<string[]> {
  return pool(count, 4, async () => {
    const id = await createContainer(d, cmd);
    if (start) await startContainer(d, id);
    return id;
  });
}

/** Force-removes every container of the daemon, bounded in count and time; leftovers are killed at cleanup. */
async function removeAll(d: Daemon): Promise<void> {
  if (d.hasExited()) return;
  const deadline = performance.now() + 120_000;
  for (let attempt = 0; attempt < 3 && performance.now() < deadline; attempt++) {
    let ids: string[];
    try {
      ids = (JSON.parse(await call(d, 'GET', '/containers/json?all=1')) as { Id: string }[]).map((c) => c.Id);
    } catch {
      return;
    }
    if (!ids.length) return;
    await pool(ids.length, 4, (i) => (performance.now() < deadline ? removeContainer(d, ids[i], true).catch(() => '') : Promise.resolve('')));
  }
}
