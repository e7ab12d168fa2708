// Starts a real berthd in its own temporary data root, exec root, pid file and socket,
// and makes sure it is gone (and its files removed) when the test ends, even on failure.
// Also runs the docker CLI and berthd as commands: a non-zero exit fails the test unless the
// test says which exit it expects (expectCode).
import { AssertionError } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTHD, berthdCommand, berthdPaths, spawnDaemon, waitForPing } from './daemon-process.js';

export { BERTHD, REPO, waitForPing } from './daemon-process.js';
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
  /** Resolves with the exit code (-1 when ended by a signal) once the process ended. */
  exited: Promise<number | null>;
  hasExited: () => boolean;
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

export interface CommandResult {
  /** null when the command was killed (it outlived its time limit). */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ExpectOptions {
  /**
   * The exit the test expects: a code, 'failure' for any non-zero one (not a kill at the time
   * limit), or 'any' when the test reads r.code itself or the exit does not matter (best-effort
   * cleanup in an after hook). Default 0: any other exit throws an AssertionError naming the
   * command, the exit and stderr, so tests need not check success.
   */
  expectCode?: number | 'failure' | 'any';
}

function checkExit(command: string, r: CommandResult, expect: ExpectOptions['expectCode'] = 0, timeoutMs?: number): CommandResult {
  // 'failure' is an exit the command chose: being killed at the time limit is a hang, not a refusal.
  const ok = expect === 'any' || (expect === 'failure' ? r.code !== null && r.code !== 0 : r.code === expect);
  if (ok) return r;
  const how = r.code === null ? `was killed${timeoutMs ? ` after ${timeoutMs} ms` : ''}` : `exited ${r.code}`;
  const wanted = expect === 'failure' ? 'a failure' : `exit ${expect}`;
  throw new AssertionError({
    message: `${command} ${how}, expected ${wanted}\nstderr: ${r.stderr.trim().slice(-4000) || '(empty)'}${r.code === 0 ? `\nstdout: ${r.stdout.trim().slice(-2000)}` : ''}`,
    actual: r.code,
    expected: expect,
    operator: 'expectCode',
  });
}

/** Runs berthd as a command (--validate, plugins, refusals); killed after 20 s. */
export function runBerthd(args: string[], env: NodeJS.ProcessEnv = {}, opts: ExpectOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(BERTHD, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      try {
        resolve(checkExit(`berthd ${args.join(' ')}`, { code, stdout, stderr }, opts.expectCode, 20_000));
      } catch (err) {
        reject(err);
      }
    });
  });
}

export async function startDaemon(opts: StartOptions = {}): Promise<RunningDaemon> {
  const dir = opts.dir ?? makeTempDir();
  const paths = berthdPaths(dir);
  const cmd = opts.defaults === false
    ? { file: BERTHD, args: opts.args ?? [] }
    : berthdCommand(paths, opts.args);
  // A wrapper (prlimit …) runs the daemon under it.
  const [file, ...rest] = [...(opts.wrapper ?? []), cmd.file, ...cmd.args];
  const p = spawnDaemon(file, rest, { env: opts.env });
  const exited = p.exited.then((e) => e.code ?? (e.signal ? -1 : null));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (!p.hasExited()) p.proc.kill(signal);
    const timer = setTimeout(() => p.proc.kill('SIGKILL'), 20_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  const d: RunningDaemon = {
    dir, socket: paths.socket, pidfile: paths.pidfile, dataRoot: paths.dataRoot, execRoot: paths.execRoot,
    proc: p.proc, exited, stop, hasExited: p.hasExited, logs: p.logs,
    cleanup: async () => {
      // SIGTERM first: a graceful stop unmounts what the daemon mounted (SIGKILL after 20 s).
      await stop('SIGTERM');
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  if (opts.waitReady !== false) {
    try {
      await waitForPing(paths.socket, p);
    } catch (err) {
      await d.cleanup();
      throw err;
    }
  }
  return d;
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

export interface DockerOptions extends ExpectOptions {
  /** Killed after this long (default 20 s). */
  timeoutMs?: number;
  /** Its standard input. */
  input?: string;
}

/** Runs the real docker CLI against a socket; a non-zero exit throws unless opts.expectCode allows it. */
export function docker(socket: string, args: string[], opts: DockerOptions = {}): Promise<CommandResult> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  return new Promise((resolve, reject) => {
    const p = spawn('docker', ['-H', `unix://${socket}`, ...args], {
      env: { ...process.env, DOCKER_CONFIG },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (opts.input !== undefined) p.stdin!.end(opts.input);
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d) => (stdout += d));
    p.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', (err) => { clearTimeout(timer); reject(err); });
    p.on('close', (code) => {
      clearTimeout(timer);
      try {
        resolve(checkExit(`docker ${args.join(' ')}`, { code, stdout, stderr }, opts.expectCode, timeoutMs));
      } catch (err) {
        reject(err);
      }
    });
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
