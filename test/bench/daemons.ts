// How to launch berthd and dockerd, each only with its own temporary folders and socket, and
// how to make sure every process we started is gone and its folders removed afterwards.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { cgroupDirs, isAlive, processFamily, processTree, procId, type Family, type ProcId } from './proc-tree.js';
import { getStatus } from './unix-http.js';

const BERTHD = fileURLToPath(new URL('../../../bin/berthd', import.meta.url));
const LOG_LIMIT = 64 * 1024;

export interface DaemonSpec {
  /** Short key used in results (berth, dockerd). */
  name: string;
  label: string;
  available: () => boolean;
  /** Command line for a daemon whose every path lives under dir. */
  command: (dir: string) => { file: string; args: string[] };
}

function commandExists(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

function commonPaths(dir: string, config: Record<string, unknown> = {}): string[] {
  writeFileSync(join(dir, 'daemon.json'), `${JSON.stringify(config)}\n`);
  return [
    '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'),
    '-H', `unix://${join(dir, 'daemon.sock')}`, '--config-file', join(dir, 'daemon.json'),
  ];
}

export const berthd: DaemonSpec = {
  name: 'berth',
  label: 'Berth',
  available: () => true,
  // No default bridge, as dockerd below: benchmarks that want one make their own (run-bridge).
  command: (dir) => ({ file: process.execPath, args: [BERTHD, ...commonPaths(dir), '-p', join(dir, 'daemon.pid'), '--bridge=none'] }),
};

export const dockerd: DaemonSpec = {
  name: 'dockerd',
  label: 'dockerd',
  available: () => commandExists('dockerd'),
  // No bridge and no iptables: dockerd must not touch docker0 or the host's firewall. dockerd
  // 20.10 also writes /etc/docker/key.json (moved by the daemon.json key "deprecated-key-path") and creates
  // /run/docker/plugins (no flag moves it): it runs in a private mount namespace with its own
  // tmpfs on /run, so nothing of the host's /run/docker* is touched. unshare and sh exec
  // into dockerd, so the pid stays the daemon's; they add a few ms to its start.
  command: (dir) => ({
    file: 'unshare',
    args: [
      '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o mode=0755 berth-bench-run /run && exec dockerd "$@"', 'dockerd',
      // Its containers' cgroups go under a parent of its own, removed at cleanup.
      ...commonPaths(dir, { 'deprecated-key-path': join(dir, 'key.json'), 'cgroup-parent': `/${basename(dir)}` }), '--pidfile', join(dir, 'daemon.pid'),
      '--bridge=none', '--iptables=false', '--ip6tables=false',
    ],
  }),
};

export function dockerdVersion(): string | undefined {
  const r = spawnSync('dockerd', ['--version'], { encoding: 'utf8', timeout: 5_000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export interface Exit {
  /** performance.now() when the process exited. */
  at: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Daemon {
  spec: DaemonSpec;
  dir: string;
  socket: string;
  proc: ChildProcess;
  pid: number;
  /** performance.now() just before spawn. */
  spawnedAt: number;
  exited: Promise<Exit>;
  hasExited: () => boolean;
  logs: () => string;
  /** The current process tree; every member is remembered for cleanup. */
  tree: () => ProcId[];
  /** The tree plus the monitors (conmon, containerd shims) and containers it started; all remembered for cleanup. */
  family: () => Family;
  cleanup: () => Promise<void>;
}

const live = new Set<Daemon>();
/** Client processes (docker CLI, runc) a benchmark started: killed if the run is cut short. */
const clients = new Set<ChildProcess>();

/** Remembers a child process until it exits, so an interrupted run kills it. */
export function trackClient(p: ChildProcess): void {
  clients.add(p);
  p.once('exit', () => clients.delete(p));
  p.once('error', () => clients.delete(p));
}

/** Synchronous undo work (e.g. deleting bare runc containers), run before scratch folders go. */
const undo = new Set<() => void>();

/** Registers undo work for an interrupted run; returns a function that runs it now and forgets it. */
export function registerUndo(fn: () => void): () => void {
  undo.add(fn);
  return () => {
    undo.delete(fn);
    fn();
  };
}

function killClients(): void {
  for (const p of clients) p.kill('SIGKILL');
  for (const fn of undo) {
    undo.delete(fn);
    try { fn(); } catch (err) { process.stderr.write(`bench: cleanup failed: ${(err as Error).message}\n`); }
  }
}

const isMonitor = (comm: string) => comm === 'conmon' || comm.startsWith('containerd-shim');
/** Temporary folders made by benchmarks (generated archives), removed with the daemons. */
const scratch = new Set<string>();

/** A temporary folder that cleanupAll (or, on an abrupt exit, killAllSync) removes. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `bench-${prefix}-`));
  scratch.add(dir);
  return dir;
}

function removeScratch(): void {
  for (const dir of scratch) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch (err) {
      process.stderr.write(`bench: could not remove ${dir}: ${(err as Error).message}\n`);
    }
    scratch.delete(dir);
  }
}

/** The same daemon with extra command-line arguments (e.g. --storage-driver vfs). */
export function withArgs(spec: DaemonSpec, label: string, ...extra: string[]): DaemonSpec {
  return {
    ...spec,
    label,
    command: (dir) => {
      const c = spec.command(dir);
      return { file: c.file, args: [...c.args, ...extra] };
    },
  };
}

export function launch(spec: DaemonSpec): Daemon {
  const dir = mkdtempSync(join(tmpdir(), `bench-${spec.name}-`));
  const { file, args } = spec.command(dir);
  const spawnedAt = performance.now();
  const proc = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  const keep = (d: Buffer) => { logs = (logs + d.toString()).slice(-LOG_LIMIT); };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  let done = false;
  const exited = new Promise<Exit>((resolve) => {
    proc.on('exit', (code, signal) => { done = true; resolve({ at: performance.now(), code, signal }); });
    proc.on('error', (err) => { keep(Buffer.from(`spawn failed: ${err.message}\n`)); done = true; resolve({ at: performance.now(), code: null, signal: null }); });
  });
  const known = new Map<number, ProcId>();
  const containerCgroups = new Set<string>();
  const self = proc.pid === undefined ? undefined : procId(proc.pid);
  if (self) known.set(self.pid, self);
  const d: Daemon = {
    spec, dir, proc, spawnedAt, exited,
    socket: join(dir, 'daemon.sock'),
    pid: proc.pid ?? -1,
    hasExited: () => done,
    logs: () => logs,
    tree: () => {
      const tree = done ? [] : processTree(d.pid);
      for (const p of tree) known.set(p.pid, p);
      d.family();
      return tree;
    },
    family: () => {
      const f = processFamily(done ? -1 : d.pid, `${dir}/`, isMonitor);
      for (const p of f.all) known.set(p.pid, p);
      for (const p of f.containers) for (const c of cgroupDirs(p.pid)) containerCgroups.add(c);
      return f;
    },
    cleanup: async () => {
      if (!done) d.tree();
      await stopAll(d, [...known.values()]);
      removeCgroups([...containerCgroups], basename(dir));
      unmountUnder(dir);
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch (err) {
        process.stderr.write(`bench: could not remove ${dir}: ${(err as Error).message}\n`);
      }
      live.delete(d);
    },
  };
  live.add(d);
  return d;
}

/** Stops the daemon (SIGTERM, then SIGKILL), then any of its remembered descendants left behind. */
async function stopAll(d: Daemon, procs: ProcId[]): Promise<void> {
  if (!d.hasExited()) {
    d.proc.kill('SIGTERM');
    if (!(await within(d.exited, 10_000))) {
      d.proc.kill('SIGKILL');
      await d.exited;
    }
  }
  const others = () => procs.filter((p) => p.pid !== d.pid && isAlive(p));
  if (!others().length) return;
  // dockerd normally stops its containerd itself; give it a moment before forcing.
  await waitUntil(() => !others().length, 3_000);
  for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
    for (const p of others()) {
      try { process.kill(p.pid, sig); } catch { /* already gone */ }
    }
    if (await waitUntil(() => !others().length, 3_000)) return;
  }
}

async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  const ac = new AbortController();
  const timedOut = sleep(ms, false, { signal: ac.signal }).catch(() => false);
  const r = await Promise.race([p.then(() => true), timedOut]);
  ac.abort();
  return r;
}

async function waitUntil(ok: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/**
 * Removes what is left of the cgroups of containers we had to kill (only folders named by a
 * 64-hex container id, and only when empty: rmdir refuses otherwise), and a cgroup parent named
 * after the daemon's folder in every hierarchy.
 */
function removeCgroups(dirs: string[], parentName: string): void {
  const parents: string[] = [];
  try {
    for (const h of readdirSync('/sys/fs/cgroup')) parents.push(join('/sys/fs/cgroup', h, parentName));
  } catch { /* no cgroup file system */ }
  for (const dir of [...dirs.filter((x) => /\/[0-9a-f]{64}$/.test(x)), ...parents]) {
    try { rmdirSync(dir); } catch { /* gone already, or not empty */ }
  }
}

/** dockerd may leave mounts (netns, overlay) under its folders: unmount them, deepest first. */
function unmountUnder(dir: string): void {
  let info: string;
  try {
    info = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return;
  }
  const points = info.split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\(\d{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))))
    .filter((p) => p === dir || p.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const p of new Set(points)) {
    if (spawnSync('umount', ['-R', p], { stdio: 'ignore' }).status !== 0) {
      spawnSync('umount', ['-R', '-l', p], { stdio: 'ignore' });
    }
  }
}

/** Cleans up every daemon still running and every scratch folder (used at the end, on failure and on Ctrl-C). */
export async function cleanupAll(): Promise<void> {
  killClients();
  await Promise.all([...live].map((d) => d.cleanup()));
  removeScratch();
}

/** Last resort when the runner exits abruptly: kill what is left, synchronously. */
export function killAllSync(): void {
  killClients();
  for (const d of live) {
    for (const p of d.family().all) {
      try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
  removeScratch();
}

/**
 * Polls /_ping every ~5 ms on fresh connections until it answers 200; resolves with the
 * milliseconds from spawn. Fails if the daemon exits or takes longer than timeoutMs.
 */
export async function waitReady(d: Daemon, timeoutMs = 20_000): Promise<number> {
  const deadline = d.spawnedAt + timeoutMs;
  while (performance.now() < deadline) {
    if (d.hasExited()) throw new Error(`${d.spec.name} exited before answering /_ping\n${d.logs().slice(-4000)}`);
    const status = await getStatus(d.socket, '/_ping', false, 2_000).catch(() => 0);
    if (status === 200) {
      const ms = performance.now() - d.spawnedAt;
      d.tree(); // remember children (containerd) while the parent link is still there
      return ms;
    }
    await sleep(5);
  }
  throw new Error(`${d.spec.name} did not answer /_ping within ${timeoutMs} ms\n${d.logs().slice(-4000)}`);
}

/** Sends SIGTERM to an idle daemon; resolves with the milliseconds until its process exited. */
export async function terminate(d: Daemon, timeoutMs = 20_000): Promise<number> {
  d.tree();
  const sent = performance.now();
  d.proc.kill('SIGTERM');
  if (!(await within(d.exited, timeoutMs))) throw new Error(`${d.spec.name} did not exit within ${timeoutMs} ms of SIGTERM`);
  return (await d.exited).at - sent;
}

/** Launches a daemon, waits until it is ready, runs fn, and always cleans up. */
export async function withDaemon<T>(spec: DaemonSpec, fn: (d: Daemon, readyMs: number) => Promise<T>): Promise<T> {
  const d = launch(spec);
  try {
    return await fn(d, await waitReady(d));
  } finally {
    await d.cleanup();
  }
}
