// How to launch berthd and dockerd, each only with its own temporary folders and socket, and
// how to make sure every process we started is gone and its folders removed afterwards.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { berthdCommand, berthdPaths, spawnDaemon, waitForPing, type DaemonProcess } from '../helpers/daemon-process.js';
import { poll } from '../helpers/poll.js';
import { cgroupDirs, isAlive, processFamily, processTree, procId, type Family, type ProcId } from './proc-tree.js';

export type { Exit } from '../helpers/daemon-process.js';
const SOCKET = 'daemon.sock';
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

/** dockerd's folders and socket, laid out as berthdCommand lays out berthd's. */
function dockerdPaths(dir: string, config: Record<string, unknown>): string[] {
  const p = berthdPaths(dir, SOCKET);
  writeFileSync(p.configFile, `${JSON.stringify(config)}\n`);
  return ['--data-root', p.dataRoot, '--exec-root', p.execRoot, '-H', `unix://${p.socket}`, '--config-file', p.configFile];
}

export const berthd: DaemonSpec = {
  name: 'berth',
  label: 'Berth',
  available: () => true,
  // The tests' command line (helpers/daemon-process.ts): no default bridge, as dockerd below;
  // benchmarks that want one make their own (run-bridge).
  command: (dir) => berthdCommand(berthdPaths(dir, SOCKET)),
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
      ...dockerdPaths(dir, { 'deprecated-key-path': join(dir, 'key.json'), 'cgroup-parent': `/${basename(dir)}` }), '--pidfile', join(dir, 'daemon.pid'),
      '--bridge=none', '--iptables=false', '--ip6tables=false',
    ],
  }),
};

export function dockerdVersion(): string | undefined {
  const r = spawnSync('dockerd', ['--version'], { encoding: 'utf8', timeout: 5_000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export interface Daemon extends DaemonProcess {
  spec: DaemonSpec;
  dir: string;
  socket: string;
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
  const { proc, spawnedAt, exited, hasExited, logs } = spawnDaemon(file, args, { logLimit: LOG_LIMIT });
  const known = new Map<number, ProcId>();
  const containerCgroups = new Set<string>();
  const self = proc.pid === undefined ? undefined : procId(proc.pid);
  if (self) known.set(self.pid, self);
  const d: Daemon = {
    spec, dir, proc, spawnedAt, exited,
    socket: join(dir, SOCKET),
    pid: proc.pid ?? -1,
    hasExited,
    logs,
    tree: () => {
      const tree = hasExited() ? [] : processTree(d.pid);
      for (const p of tree) known.set(p.pid, p);
      d.family();
      return tree;
    },
    family: () => {
      const f = processFamily(hasExited() ? -1 : d.pid, `${dir}/`, isMonitor);
      for (const p of f.all) known.set(p.pid, p);
      for (const p of f.containers) for (const c of cgroupDirs(p.pid)) containerCgroups.add(c);
      return f;
    },
    cleanup: async () => {
      if (!hasExited()) d.tree();
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
  return (await poll(ok, { timeoutMs: ms, intervalMs: 20 })) === true;
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
 * milliseconds from spawn. Fails if the daemon exits or takes longer than timeoutMs from spawn.
 */
export async function waitReady(d: Daemon, timeoutMs = 20_000): Promise<number> {
  await waitForPing(d.socket, d, { name: d.spec.name, intervalMs: 5, timeoutMs: Math.max(d.spawnedAt + timeoutMs - performance.now(), 0) });
  const ms = performance.now() - d.spawnedAt;
  d.tree(); // remember children (containerd) while the parent link is still there
  return ms;
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
