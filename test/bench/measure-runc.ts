// Bare `runc run` of the same busybox root file system, as the floor a daemon adds to: once with
// `runc spec` defaults, once with the full spec Berth generates for a container (dockerd's
// defaults: capabilities, seccomp, masked paths, devices cgroup, /etc files bind-mounted).
// runc keeps its state in a temporary --root; every container is deleted, also on failure.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { hostBoundingCapabilities, hostNofileLimit } from '../../plugins/exec-runc/host-limits.js';
import { buildOciSpec } from '../../plugins/exec-runc/oci-spec.js';
import { median, PartialFailure, type Benchmark, type Figures } from './benchmark.js';
import { busyboxTar } from './busybox-daemon.js';
import { COUNTS } from './counts.js';
import { registerUndo, scratchDir, trackClient, type DaemonSpec } from './daemons.js';

export const bareRunc: DaemonSpec = {
  name: 'runc',
  label: 'runc',
  available: () => spawnSync('runc', ['--version'], { stdio: 'ignore' }).status === 0,
  command: () => { throw new Error('bare runc is not a daemon'); },
};

const RUN_TIMEOUT_MS = 30_000;

function sh(file: string, args: string[]): string {
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')}: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

/** A bundle folder with the busybox root file system extracted into rootfs/. */
function bundle(dir: string): string {
  mkdirSync(join(dir, 'rootfs'), { recursive: true });
  sh('tar', ['-xf', busyboxTar().path, '-C', join(dir, 'rootfs')]);
  return dir;
}

function defaultSpecBundle(dir: string): string {
  bundle(dir);
  sh('runc', ['spec', '--bundle', dir]);
  const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { process: Record<string, unknown> };
  spec.process.terminal = false;
  spec.process.args = ['true'];
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
  return dir;
}

/** The spec as Berth's runc driver writes it, host facts included (its create(), runc-driver.ts). */
async function fullSpecBundle(dir: string, cgroupsPath: string): Promise<string> {
  bundle(dir);
  const files = { hostname: join(dir, 'hostname'), hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf') };
  writeFileSync(files.hostname, 'bench\n');
  writeFileSync(files.hosts, '127.0.0.1\tlocalhost\n');
  writeFileSync(files.resolvConf, '');
  const spec = buildOciSpec({
    id: 'bench', root: { path: join(dir, 'rootfs'), readonly: false }, hostname: 'bench', cgroupsPath,
    mounts: ([['/etc/resolv.conf', files.resolvConf], ['/etc/hostname', files.hostname], ['/etc/hosts', files.hosts]] as const)
      .map(([destination, source]) => ({ destination, type: 'bind' as const, source })),
    process: { args: ['true'], env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=bench'], cwd: '/', user: { uid: 0, gid: 0 }, tty: false },
  }, { maxNofile: await hostNofileLimit(), capabilities: await hostBoundingCapabilities() });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
  return dir;
}

/** `runc --root root run --bundle b id`, timed from spawn to exit. */
function runOnce(root: string, b: string, id: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn('runc', ['--root', root, 'run', '--bundle', b, id], { stdio: ['ignore', 'ignore', 'pipe'] });
    trackClient(p);
    let stderr = '';
    p.stderr!.on('data', (c: Buffer) => (stderr += c));
    const timer = setTimeout(() => p.kill('SIGKILL'), RUN_TIMEOUT_MS);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(performance.now() - t0);
      else reject(new Error(`runc run ${id} (bundle ${b}): exit ${code}: ${stderr.trim()}`));
    });
  });
}

async function medianRun(root: string, b: string, prefix: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < COUNTS.warmups + COUNTS.runs; i++) {
    const ms = await runOnce(root, b, `${prefix}-${i}`);
    if (i >= COUNTS.warmups) times.push(ms);
  }
  return median(times);
}

/** Deletes whatever containers are left in our runc root, and the cgroup folders of the full spec. */
function cleanup(root: string, cgroupsPath: string): void {
  const ids = spawnSync('runc', ['--root', root, 'list', '-q'], { encoding: 'utf8', timeout: 10_000 }).stdout?.split('\n').filter(Boolean) ?? [];
  for (const id of ids) spawnSync('runc', ['--root', root, 'delete', '-f', id], { stdio: 'ignore', timeout: 10_000 });
  let hierarchies: string[] = [];
  try { hierarchies = readdirSync('/sys/fs/cgroup'); } catch { /* none */ }
  for (const h of hierarchies) {
    try { rmdirSync(join('/sys/fs/cgroup', h, cgroupsPath)); } catch { /* removed by runc, or absent */ }
  }
}

export const runc: Benchmark = {
  name: 'runc',
  metrics: ['runMs', 'runFullSpecMs'],
  only: ['runc'],
  async run() {
    const dir = scratchDir('runc');
    const root = join(dir, 'state');
    const cgroupsPath = `/${dir.split('/').pop()}`;
    const undo = registerUndo(() => cleanup(root, cgroupsPath));
    const figures: Figures = {};
    try {
      figures.runMs = await medianRun(root, defaultSpecBundle(join(dir, 'default')), `bench-${process.pid}-default`);
      figures.runFullSpecMs = await medianRun(root, await fullSpecBundle(join(dir, 'full'), cgroupsPath), `bench-${process.pid}-full`);
      return figures;
    } catch (err) {
      throw new PartialFailure((err as Error).message, figures);
    } finally {
      undo();
    }
  },
};
