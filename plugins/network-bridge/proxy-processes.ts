// The daemon's side of the port proxy processes (proxy-main.ts): one per endpoint with published
// ports, outliving the daemon. Publishing binds the ports in the daemon and serves them at once
// (a taken port is refused before the container starts); then, off the critical path, the proxy
// process is started from the spawner thread with the listening sockets as its fds, serves them
// too, reports; it is recorded in the exec root ({pid, endpoint, targets}) and told to stay, and
// only then does the daemon close its own copies. A daemon that dies before that takes the ports
// with it and the proxy, its stdin closed, exits. A restarted daemon adopts a recorded proxy (the
// same ports, no gap) or, when it is gone or differs, replaces it; stopping checks the pid is
// still that proxy (pids are reused).
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { PluginFs } from '../../core/plugin-api.js';
import { startChild, type StartedChild } from '../../lib/spawner/spawner.js';
import { PortProxies, type ProxyTarget } from './port-proxy.js';
import { PROXY_FLAG } from './proxy-main.js';

const PROXY_MAIN = fileURLToPath(new URL('./proxy-main.js', import.meta.url));
const REPORT_TIMEOUT_MS = 10_000;
const STOP_WAIT_MS = 3000;

export interface ProxyRecord { pid: number; endpoint: string; targets: ProxyTarget[] }

/** A hand-off under way: stop() cancels it. */
interface HandOff { cancelled: boolean; child?: StartedChild; done: Promise<void> }

const sameTargets = (a: ProxyTarget[], b: ProxyTarget[]) => JSON.stringify(a.map(key).sort()) === JSON.stringify(b.map(key).sort());
const key = (t: ProxyTarget) => `${t.proto}:${t.hostIp}:${t.hostPort}:${t.containerIp}:${t.containerPort}`;

async function isOurProxy(pid: number, endpoint: string): Promise<boolean> {
  const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  return args.includes(PROXY_FLAG) && args.includes(endpoint);
}

async function bindAll(targets: ProxyTarget[]): Promise<{ local: PortProxies; ports: number[] }> {
  const local = new PortProxies();
  const ports: number[] = [];
  try {
    for (const t of targets) ports.push(await local.start(t));
  } catch (err) {
    await local.stopAll();
    throw err;
  }
  return { local, ports };
}

/** SIGKILLs the proxy processes of this endpoint (none recorded); true when there were any, gone now. */
async function killStrays(endpoint: string): Promise<boolean> {
  const pids: number[] = [];
  for (const p of await readdir('/proc')) {
    if (/^\d+$/.test(p) && Number(p) !== process.pid && (await isOurProxy(Number(p), endpoint))) pids.push(Number(p));
  }
  for (const pid of pids) try { process.kill(pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
  const deadline = Date.now() + STOP_WAIT_MS;
  for (const pid of pids) while (Date.now() < deadline && (await isOurProxy(pid, endpoint))) await new Promise((res) => setTimeout(res, 10));
  return pids.length > 0;
}

export class ProxyProcesses {
  private readonly records = new Map<string, ProxyRecord>();
  /** Proxies started by this run (from the spawner thread, which reaps them). */
  private readonly children = new Map<string, StartedChild>();
  /** The ports the daemon serves itself: until the hand-off, and the connections it took meanwhile. */
  private readonly local = new Map<string, PortProxies>();
  private readonly handOffs = new Map<string, HandOff>();
  /** Endpoints started or adopted by this run: the others an earlier run left go at sweep. */
  private readonly claimed = new Set<string>();

  private dirMade = false;

  constructor(private readonly dir: string, private readonly fs: PluginFs, private readonly log: Logger) {}

  private async ensureDir(): Promise<void> {
    if (!this.dirMade) await mkdir(this.dir, { recursive: true, mode: 0o700 });
    this.dirMade = true;
  }

  private file(endpoint: string): string {
    return join(this.dir, `${endpoint}.json`);
  }

  /** Daemon start: the proxies an earlier run recorded. */
  async load(): Promise<void> {
    await this.ensureDir();
    for (const f of await readdir(this.dir)) {
      if (!f.endsWith('.json')) continue;
      try {
        const r = JSON.parse(await readFile(join(this.dir, f), 'utf8')) as ProxyRecord;
        this.records.set(r.endpoint, r);
      } catch (err) {
        this.log.warn({ err, file: f }, 'unreadable port proxy record: removed');
        await rm(join(this.dir, f), { force: true });
      }
    }
  }

  /** The endpoint's proxy from an earlier run, if it still runs and serves exactly these targets. */
  async adopt(endpoint: string, targets: ProxyTarget[]): Promise<boolean> {
    const r = this.records.get(endpoint);
    if (!r || !sameTargets(r.targets, targets) || !(await isOurProxy(r.pid, endpoint))) return false;
    this.claimed.add(endpoint);
    this.log.debug({ endpoint, pid: r.pid }, 'port proxy adopted');
    return true;
  }

  /** Binds and serves the endpoint's ports (after stopping any proxy it had) and returns the host
   * ports taken; the proxy process takes them over in the background. */
  async start(endpoint: string, targets: ProxyTarget[]): Promise<number[]> {
    await this.stop(endpoint);
    this.claimed.add(endpoint);
    let local: PortProxies;
    let ports: number[];
    try {
      ({ local, ports } = await bindAll(targets));
    } catch (err) {
      // A daemon killed during a hand-off leaves a proxy that holds the ports until it reads the
      // end of its stdin (once its Node is up): an unrecorded proxy of this endpoint goes.
      if (!(await killStrays(endpoint))) throw err;
      ({ local, ports } = await bindAll(targets));
    }
    this.local.set(endpoint, local);
    const bound = targets.map((t, i) => ({ ...t, hostPort: ports[i] }));
    const h: HandOff = { cancelled: false, done: Promise.resolve() };
    h.done = this.handOff(endpoint, bound, local, h).catch((err: Error) => {
      if (!h.cancelled) this.log.warn({ err, endpoint }, 'port proxy process failed to start: the daemon serves the ports itself, until it stops');
    }).finally(() => { if (this.handOffs.get(endpoint) === h) this.handOffs.delete(endpoint); });
    this.handOffs.set(endpoint, h);
    return ports;
  }

  private async handOff(endpoint: string, bound: ProxyTarget[], local: PortProxies, h: HandOff): Promise<void> {
    await this.ensureDir();
    if (h.cancelled) return;
    const child = startChild({
      cmd: process.execPath, args: ['--max-semi-space-size=1', PROXY_MAIN, PROXY_FLAG, endpoint, JSON.stringify(bound)],
      fds: bound.map((t) => local.fd(t)), detached: true, cwd: '/', env: {}, timeoutMs: REPORT_TIMEOUT_MS,
    });
    h.child = child;
    try {
      const { pid, line } = await child.answer;
      if (h.cancelled) throw new Error('cancelled');
      const report = JSON.parse(line) as { ports: number[] } | { error: string };
      if ('error' in report) throw new Error(report.error);
      if (report.ports.join() !== bound.map((t) => t.hostPort).join()) throw new Error(`port proxy serves ${report.ports.join()}, not ${bound.map((t) => t.hostPort).join()}`);
      const record: ProxyRecord = { pid, endpoint, targets: bound };
      await this.fs.writeFileAtomic(this.file(endpoint), JSON.stringify(record));
      // Recorded: stop() (waiting for this hand-off) finds it from here on, cancelled or not.
      this.records.set(endpoint, record);
      this.children.set(endpoint, child);
      if (h.cancelled) return;
      await child.stay('ok\n');
    } catch (err) {
      await child.kill();
      throw err;
    }
    // It serves the ports alone now: the daemon's copies close (their connections run on).
    for (const t of bound) await local.release(t);
    this.log.debug({ endpoint, pid: this.records.get(endpoint)?.pid }, 'port proxy took over the ports');
  }

  /** Stops the endpoint's proxy, if it has one; its ports are free when this resolves. */
  async stop(endpoint: string): Promise<void> {
    const h = this.handOffs.get(endpoint);
    if (h) {
      h.cancelled = true;
      void h.child?.kill();
      await h.done;
    }
    const r = this.records.get(endpoint);
    if (r) {
      const child = this.children.get(endpoint);
      this.children.delete(endpoint);
      if (child) await child.kill();
      if (await isOurProxy(r.pid, endpoint)) {
        try { process.kill(r.pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
        // Not our child (an earlier run's): gone once its cmdline is (a zombie has none).
        const deadline = Date.now() + STOP_WAIT_MS;
        while (Date.now() < deadline && (await isOurProxy(r.pid, endpoint))) await new Promise((res) => setTimeout(res, 10));
      }
      await rm(this.file(endpoint), { force: true });
      this.records.delete(endpoint);
    }
    const local = this.local.get(endpoint);
    this.local.delete(endpoint);
    await local?.stopAll();
    this.claimed.delete(endpoint);
  }

  /** Waits for the hand-offs under way (a graceful stop with live-restore: the ports outlive it). */
  async settle(): Promise<void> {
    await Promise.all([...this.handOffs.values()].map((h) => h.done));
  }

  /** Daemon start, after the running containers' ports were published again: the proxies of
   * endpoints nobody claimed (their container ended while the daemon was down) go. */
  async sweep(): Promise<void> {
    for (const endpoint of [...this.records.keys()]) {
      if (this.claimed.has(endpoint)) continue;
      this.log.info({ endpoint }, 'stopping a port proxy no running container claims');
      await this.stop(endpoint);
    }
  }

  async stopAll(): Promise<void> {
    for (const endpoint of new Set([...this.records.keys(), ...this.local.keys(), ...this.handOffs.keys()])) await this.stop(endpoint);
  }
}
