// Starting a daemon process: shared by the tests (helpers/daemon.ts startDaemon) and the bench
// (bench/daemons.ts launch, which adds dockerd and process-tree cleanup). berthdCommand is
// berthd's command line with every path under one folder; spawnDaemon runs any daemon and keeps
// its output; waitForPing waits until it answers.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { waitFor } from './poll.js';

export const REPO = fileURLToPath(new URL('../../..', import.meta.url));
export const BERTHD = join(REPO, 'bin/berthd');

export interface BerthdPaths {
  socket: string;
  pidfile: string;
  dataRoot: string;
  execRoot: string;
  configFile: string;
}

export function berthdPaths(dir: string, socketName = 'berth.sock'): BerthdPaths {
  return {
    socket: join(dir, socketName),
    pidfile: join(dir, 'berth.pid'),
    dataRoot: join(dir, 'data'),
    execRoot: join(dir, 'exec'),
    configFile: join(dir, 'daemon.json'),
  };
}

/**
 * berthd with its data root, exec root, pid file, socket and daemon.json all under dir (the file
 * is written as {} unless there already is one: an explicit --config-file must exist, as with
 * dockerd). No default bridge unless args name one: daemons run side by side and must not share
 * berth0 or each other's rules.
 */
export function berthdCommand(paths: BerthdPaths, args: string[] = []): { file: string; args: string[] } {
  if (!existsSync(paths.configFile)) writeFileSync(paths.configFile, '{}\n');
  const bridge = args.some((a) => a === '-b' || a.startsWith('--bridge')) ? [] : ['--bridge', 'none'];
  return {
    file: BERTHD,
    args: [
      '--data-root', paths.dataRoot, '--exec-root', paths.execRoot, '-p', paths.pidfile,
      '-H', `unix://${paths.socket}`, '--config-file', paths.configFile, ...bridge, ...args,
    ],
  };
}

export interface Exit {
  /** performance.now() when the process exited. */
  at: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface DaemonProcess {
  proc: ChildProcess;
  pid: number;
  /** performance.now() just before spawn. */
  spawnedAt: number;
  exited: Promise<Exit>;
  hasExited: () => boolean;
  /** What it wrote to stdout and stderr (the last logLimit characters when one is set). */
  logs: () => string;
}

export function spawnDaemon(file: string, args: string[], opts: { env?: NodeJS.ProcessEnv; logLimit?: number } = {}): DaemonProcess {
  const spawnedAt = performance.now();
  const proc = spawn(file, args, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  const keep = (d: Buffer | string) => {
    logs += d.toString();
    if (opts.logLimit !== undefined && logs.length > opts.logLimit) logs = logs.slice(-opts.logLimit);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  let done = false;
  const exited = new Promise<Exit>((resolve) => {
    proc.on('exit', (code, signal) => { done = true; resolve({ at: performance.now(), code, signal }); });
    proc.on('error', (err) => { keep(`spawn ${file} failed: ${err.message}\n`); done = true; resolve({ at: performance.now(), code: null, signal: null }); });
  });
  return { proc, pid: proc.pid ?? -1, spawnedAt, exited, hasExited: () => done, logs: () => logs };
}

/** GET /_ping on a fresh connection (no keep-alive: each try is what a new client sees). */
export function pingStatus(socket: string, timeoutMs = 2_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path: '/_ping', method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET /_ping on ${socket} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Waits until /_ping on socket answers 200; fails at once if the daemon exits, and after
 * timeoutMs otherwise, with the daemon's last output in the message.
 */
export async function waitForPing(socket: string, daemon?: Pick<DaemonProcess, 'hasExited' | 'logs'>, opts: { timeoutMs?: number; intervalMs?: number; name?: string } = {}): Promise<void> {
  await waitFor(`${opts.name ?? 'the daemon'} to answer /_ping on ${socket}`, async () => (await pingStatus(socket)) === 200, {
    timeoutMs: opts.timeoutMs ?? 10_000,
    intervalMs: opts.intervalMs ?? 20,
    giveUp: () => (daemon?.hasExited() ? 'the daemon exited' : undefined),
    detail: () => (daemon ? `daemon output (last 4000 characters):\n${daemon.logs().slice(-4000)}` : ''),
  });
}
