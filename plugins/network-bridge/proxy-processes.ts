// The daemon's side of the port proxy processes (proxy-main.ts): one per endpoint with published
// ports, outliving the daemon. Each is recorded in the exec root ({pid, endpoint, targets}) before
// it is told to stay, so a restarted daemon adopts it (the same ports, no gap) or, when it is
// gone or differs, replaces it; stopping checks the pid is still that proxy (pids are reused).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { PluginFs } from '../../core/plugin-api.js';
import type { ProxyTarget } from './port-proxy.js';
import { PROXY_FLAG } from './proxy-main.js';

const PROXY_MAIN = fileURLToPath(new URL('./proxy-main.js', import.meta.url));
const REPORT_TIMEOUT_MS = 10_000;
const STOP_WAIT_MS = 3000;

export interface ProxyRecord { pid: number; endpoint: string; targets: ProxyTarget[] }

const sameTargets = (a: ProxyTarget[], b: ProxyTarget[]) => JSON.stringify(a.map(key).sort()) === JSON.stringify(b.map(key).sort());
const key = (t: ProxyTarget) => `${t.proto}:${t.hostIp}:${t.hostPort}:${t.containerIp}:${t.containerPort}`;

async function isOurProxy(pid: number, endpoint: string): Promise<boolean> {
  const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  return args.includes(PROXY_FLAG) && args.includes(endpoint);
}

export class ProxyProcesses {
  private readonly records = new Map<string, ProxyRecord>();
  /** Children started by this run (reaped by Node; their exit is awaited on stop). */
  private readonly children = new Map<number, ChildProcess>();
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

  /** Starts the endpoint's proxy (after stopping any other it had); returns the host ports taken. */
  async start(endpoint: string, targets: ProxyTarget[]): Promise<number[]> {
    await this.stop(endpoint);
    await this.ensureDir();
    this.claimed.add(endpoint);
    const child = spawn(process.execPath, ['--max-semi-space-size=1', PROXY_MAIN, PROXY_FLAG, endpoint, JSON.stringify(targets)], {
      detached: true, stdio: ['pipe', 'pipe', 'ignore'], cwd: '/', env: {},
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      const report = await readReport(child);
      if ('error' in report) throw new Error(report.error);
      const record: ProxyRecord = { pid: child.pid!, endpoint, targets: targets.map((t, i) => ({ ...t, hostPort: report.ports[i] })) };
      await this.fs.writeFileAtomic(this.file(endpoint), JSON.stringify(record));
      this.records.set(endpoint, record);
      this.children.set(record.pid, child);
      void exited.then(() => this.children.delete(record.pid));
      child.stdin!.end('ok\n');
      child.stdout!.destroy();
      // It lives on its own now: the daemon's event loop does not wait for it.
      child.unref();
      return report.ports;
    } catch (err) {
      child.kill('SIGKILL');
      child.stdin?.destroy();
      child.stdout?.destroy();
      await exited;
      throw err;
    }
  }

  /** Stops the endpoint's proxy, if it has one; its ports are free when this resolves. */
  async stop(endpoint: string): Promise<void> {
    const r = this.records.get(endpoint);
    if (!r) return;
    const child = this.children.get(r.pid);
    if (child) {
      const exited = new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
      child.ref();
      child.kill('SIGKILL');
      await exited;
    } else if (await isOurProxy(r.pid, endpoint)) {
      try { process.kill(r.pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
      // Not our child (an earlier run's): gone once its cmdline is (a zombie has none).
      const deadline = Date.now() + STOP_WAIT_MS;
      while (Date.now() < deadline && (await isOurProxy(r.pid, endpoint))) await new Promise((res) => setTimeout(res, 10));
    }
    await rm(this.file(endpoint), { force: true });
    this.records.delete(endpoint);
    this.claimed.delete(endpoint);
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
    for (const endpoint of [...this.records.keys()]) await this.stop(endpoint);
  }
}

/** The child's one line: the ports it bound, or why it could not. */
function readReport(child: ChildProcess): Promise<{ ports: number[] } | { error: string }> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => done(new Error(`port proxy gave no answer within ${REPORT_TIMEOUT_MS / 1000} s`)), REPORT_TIMEOUT_MS);
    const done = (err?: Error, v?: { ports: number[] } | { error: string }) => {
      clearTimeout(timer);
      child.stdout!.removeAllListeners('data');
      child.stdout!.removeListener('end', onEnd);
      if (err) reject(err); else resolve(v!);
    };
    // Its output is read to the end before its exit counts: an error line comes just before it.
    const onEnd = () => done(new Error('port proxy exited before it bound its ports'));
    child.stdout!.once('end', onEnd);
    child.once('error', (err) => done(new Error(`port proxy: ${err.message}`)));
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => {
      out += c;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      try {
        done(undefined, JSON.parse(out.slice(0, nl)) as { ports: number[] } | { error: string });
      } catch {
        done(new Error(`port proxy: ${out.slice(0, nl)}`));
      }
    });
  });
}
