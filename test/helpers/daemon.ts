// Starts a real berthd in its own temporary data root, exec root, pid file and socket,
// and makes sure it is gone (and its files removed) when the test ends, even on failure.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../..', import.meta.url));
export const BERTHD = join(REPO, 'bin/berthd');
/** The docker CLI's config folder (never the user's ~/.docker): one per test process, removed at exit. */
export const DOCKER_CONFIG = mkdtempSync(join(tmpdir(), 'berth-docker-config-'));
process.on('exit', () => rmSync(DOCKER_CONFIG, { recursive: true, force: true }));

export interface RunningDaemon {
  dir: string;
  socket: string;
  pidfile: string;
  dataRoot: string;
  execRoot: string;
  proc: ChildProcess;
  /** Everything the daemon wrote to stderr (pino JSON lines) so far. */
  logs: () => string;
  /** Resolves with the exit code (or signal) once the process ended. */
  exited: Promise<number | null>;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
  cleanup: () => Promise<void>;
}

export function makeTempDir(prefix = 'berth-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface StartOptions {
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Reuse folders from an earlier daemon (restart tests). */
  dir?: string;
  /** Wait for /_ping to answer (default true). */
  waitReady?: boolean;
  /** Add the default -H/--data-root/... flags (default true). */
  defaults?: boolean;
  /** A command that execs the daemon, e.g. ['prlimit', '--nofile=400:400'] (the pid stays the daemon's). */
  wrapper?: string[];
}

export function runBerthd(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BERTHD, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

export async function startDaemon(opts: StartOptions = {}): Promise<RunningDaemon> {
  const dir = opts.dir ?? makeTempDir();
  const socket = join(dir, 'berth.sock');
  const pidfile = join(dir, 'berth.pid');
  const dataRoot = join(dir, 'data');
  const execRoot = join(dir, 'exec');
  const defaults = opts.defaults === false ? [] : [
    '--data-root', dataRoot, '--exec-root', execRoot, '-p', pidfile, '-H', `unix://${socket}`,
    '--config-file', join(dir, 'daemon.json'),
    // No default bridge unless the test asks for networking (--bridge NAME on a bridge it made):
    // test daemons run side by side and must not share berth0 or each other's rules.
    ...((opts.args ?? []).some((a) => a === '-b' || a.startsWith('--bridge')) ? [] : ['--bridge', 'none']),
  ];
  // An explicit --config-file must exist (as dockerd); an empty configuration unless the test wrote one.
  if (!existsSync(join(dir, 'daemon.json'))) writeFileSync(join(dir, 'daemon.json'), '{}');
  const argv = [process.execPath, BERTHD, ...defaults, ...(opts.args ?? [])];
  const [file, ...rest] = [...(opts.wrapper ?? []), ...argv];
  const proc = spawn(file, rest, {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  proc.stdout!.on('data', (d) => (logs += d));
  proc.stderr!.on('data', (d) => (logs += d));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code, sig) => resolve(code ?? (sig ? -1 : null))));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  const d: RunningDaemon = {
    dir, socket, pidfile, dataRoot, execRoot, proc, exited, stop,
    logs: () => logs,
    cleanup: async () => {
      // SIGTERM first: a graceful stop unmounts what the daemon mounted (SIGKILL after 20 s).
      await stop('SIGTERM');
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  if (opts.waitReady !== false) {
    try {
      await waitForPing(socket, exited);
    } catch (err) {
      await d.cleanup();
      throw new Error(`${(err as Error).message}\ndaemon output:\n${logs}`);
    }
  }
  return d;
}

export async function waitForPing(socket: string, exited?: Promise<unknown>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void exited?.then(() => (gone = true));
  while (Date.now() < deadline) {
    if (gone) throw new Error('daemon exited before answering /_ping');
    const ok = await apiRequest(socket, 'GET', '/_ping').then((r) => r.status === 200, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no answer on ${socket} within ${timeoutMs} ms`);
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: () => any;
}

export function apiRequest(socket: string, method: string, path: string, body?: string | object, headers: Record<string, string> = {}): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = request({
      socketPath: socket, method, path,
      headers: { ...(data !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}), ...headers },
      timeout: 10_000,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: () => JSON.parse(text) }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

/** Runs the real docker CLI against a socket; `input`, when given, is its standard input. */
export function docker(socket: string, args: string[], timeoutMs = 20_000, input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('docker', ['-H', `unix://${socket}`, ...args], {
      env: { ...process.env, DOCKER_CONFIG },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (input !== undefined) p.stdin!.end(input);
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d) => (stdout += d));
    p.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

const cleanupStacks = new WeakMap<object, (() => unknown)[]>();

/**
 * Registers cleanup work for a test, run last-in first-out after it: a daemon restarted on an
 * earlier daemon's folders is stopped before those folders are removed.
 */
export function onCleanup(t: { after: (fn: () => unknown) => void }, fn: () => unknown): void {
  let stack = cleanupStacks.get(t);
  if (!stack) {
    const fresh: (() => unknown)[] = [];
    cleanupStacks.set(t, fresh);
    t.after(async () => {
      while (fresh.length) await fresh.pop()!();
    });
    stack = fresh;
  }
  stack.push(fn);
}
