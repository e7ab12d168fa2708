// Fault suite, kill -9 of the daemon in the middle of docker start, stop, rm and exec, at chosen
// moments (the daemon is frozen with SIGSTOP the moment the host shows it, then killed): after a
// restart docker ps and inspect agree with the runtime, the container can be started again or
// removed with docker rm -f, and then nothing of it is left: no runc container, process, cgroup,
// mount or folder. Only this test's own processes are looked at, by its folders and ids.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { docker, DOCKER_CONFIG, makeTempDir, onCleanup, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { importBusybox } from './helpers/busybox.js';
import { cgroupsOf, mountsOf, ownProcesses, runcList, runtimeRootOf } from './helpers/crash.js';
import { poll } from './helpers/poll.js';

interface Rig {
  dir: string;
  d: RunningDaemon;
  /** Every container id the test made. */
  ids: Set<string>;
  /** The daemon's flags, at each start. */
  args: string[];
}

/** A daemon with busybox, on folders of its own; whatever the outcome everything it made goes. */
async function rig(t: Parameters<typeof onCleanup>[0], args: string[]): Promise<Rig> {
  const dir = makeTempDir('berth-fault-life-');
  const work = makeTempDir('berth-fault-life-work-');
  const r: Rig = { dir, args, d: await startDaemon({ dir, args }), ids: new Set() };
  onCleanup(t, async () => {
    if (!r.d.hasExited()) {
      const ids = (await docker(r.d.socket, ['ps', '-aq'], { expectCode: 'any' })).stdout.trim().split('\n').filter(Boolean);
      if (ids.length) await docker(r.d.socket, ['rm', '-f', ...ids], { timeoutMs: 60_000, expectCode: 'any' });
      await r.d.stop();
    }
    const root = runtimeRootOf(dir);
    await Promise.all(runcList(root).map((id) => new Promise((res) => spawn('runc', ['--root', root, 'delete', '--force', id], { stdio: 'ignore' }).on('close', res))));
    for (const m of mountsOf(dir).reverse()) await new Promise((res) => spawn('umount', ['-l', m], { stdio: 'ignore' }).on('close', res));
    rmSync(dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });
  await importBusybox(r.d.socket, work);
  return r;
}

/** The real CLI, run without waiting (the daemon dies under it); resolves when it ended (bounded: 30 s). */
function dockerAsync(d: RunningDaemon, args: string[]): Promise<void> {
  return new Promise((resolve) => {
    const p = spawn('docker', ['-H', `unix://${d.socket}`, ...args], { env: { ...process.env, DOCKER_CONFIG }, stdio: 'ignore' });
    const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.on('close', () => { clearTimeout(timer); resolve(); });
  });
}

async function run(r: Rig, args: string[]): Promise<string> {
  const id = (await docker(r.d.socket, ['run', '-d', ...args])).stdout.trim();
  r.ids.add(id);
  return id;
}

const inspect = async (d: RunningDaemon, id: string) => JSON.parse((await docker(d.socket, ['inspect', id])).stdout)[0];
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
/** The pids of processes whose command line is exactly `cmd` (words joined by spaces). */
const pidsOf = (r: Rig, cmd: string) => ownProcesses(r.dir, r.ids).filter((p) => p.slice(p.indexOf(' ') + 1).trim() === cmd).map((p) => Number(p.split(' ')[0]));

/** Waits (polling fast, bounded) for `moment`, freezes the daemon there, kills it, waits for `op` to end, starts it again. */
async function killAt(r: Rig, what: string, moment: () => boolean, op: Promise<void>): Promise<void> {
  const hit = await poll(moment, { intervalMs: 2, timeoutMs: 20_000 });
  r.d.proc.kill('SIGSTOP');
  r.d.proc.kill('SIGKILL');
  await r.d.exited;
  await op;
  assert.ok(hit, `the daemon was killed at its moment: ${what}`);
  r.d = await startDaemon({ dir: r.dir, args: r.args });
}

/** docker ps, inspect and the runtime agree; each container can be removed with rm -f; nothing is left. */
async function coherentThenRemoved(r: Rig): Promise<void> {
  const { d } = r;
  const rows = (await docker(d.socket, ['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.State}}'])).stdout.trim().split('\n').filter(Boolean).map((l) => l.split(' '));
  const running = new Set(rows.filter(([, s]) => s === 'running').map(([id]) => id));
  for (const id of runcList(runtimeRootOf(r.dir))) assert.ok(running.has(id), `runc holds ${id}, which docker ps shows as ${rows.find(([x]) => x === id)?.[1] ?? 'absent'}`);
  for (const [id, state] of rows) {
    const c = await inspect(d, id);
    assert.equal(c.State.Status, state, `inspect and ps agree on ${id}`);
    if (state === 'running') assert.ok(c.State.Pid > 0 && alive(c.State.Pid), `${id} is running with a live pid (${c.State.Pid})`);
    else assert.equal(c.State.Pid, 0, `${id} (${state}) shows no pid`);
  }
  for (const [id] of rows) await docker(d.socket, ['rm', '-f', id], { timeoutMs: 60_000 });
  assert.equal((await docker(d.socket, ['ps', '-aq'])).stdout.trim(), '', 'docker rm -f removed every container');
  // conmon exits a moment after its container: bounded wait for the stragglers.
  const leftovers = () => ownProcesses(r.dir, r.ids).filter((p) => !/berthd/.test(p));
  await poll(() => leftovers().length === 0, { intervalMs: 100, timeoutMs: 10_000 });
  assert.deepEqual(runcList(runtimeRootOf(r.dir)), [], 'no runc container');
  assert.deepEqual(leftovers(), [], 'no runc init, conmon or container process');
  assert.deepEqual(cgroupsOf(r.ids), [], 'no cgroup');
  assert.deepEqual(mountsOf(d.dataRoot).filter((m) => [...r.ids].some((id) => m.includes(id))), [], 'no container mount');
  assert.deepEqual([...r.ids].filter((id) => existsSync(join(d.dataRoot, 'containers', id))), [], 'no container folder');
}

// Without live-restore a restarted daemon stops what ran; with it, it adopts what runs.
for (const [mode, args] of [['', []], [' (live-restore)', ['--live-restore']]] as [string, string[]][]) {
  test(`kill -9 during docker start, once the runtime created the container: restarted, it starts again or is removed, and nothing is left${mode}`, async (t) => {
    const r = await rig(t, args);
    const id = (await docker(r.d.socket, ['create', 'busybox', 'sleep', '1000'])).stdout.trim();
    r.ids.add(id);
    const second = (await docker(r.d.socket, ['create', 'busybox', 'sleep', '1000'])).stdout.trim();
    r.ids.add(second);
    const root = runtimeRootOf(r.dir);
    await killAt(r, 'runc holds the container', () => runcList(root).includes(id), dockerAsync(r.d, ['start', id]));
    // Usable again: it starts (and runs) after the crash.
    await docker(r.d.socket, ['start', id]);
    assert.equal((await inspect(r.d, id)).State.Status, 'running');
    // Killed once more while the second container's process runs but before the start answered.
    await killAt(r, 'the container process runs', () => pidsOf(r, 'sleep 1000').length >= 2, dockerAsync(r.d, ['start', second]));
    await coherentThenRemoved(r);
  });

  test(`kill -9 during docker stop, in the grace period and once the process died: coherent after restart, rm -f removes all${mode}`, async (t) => {
    const r = await rig(t, args);
    // sleep as pid 1 ignores SIGTERM: the stop waits its grace period out, then kills.
    const graceful = await run(r, ['busybox', 'sleep', '1000']);
    await killAt(r, 'in the grace period', () => true, (async () => {
      const stop = dockerAsync(r.d, ['stop', '-t', '20', graceful]);
      await new Promise((res) => setTimeout(res, 500));
      return stop;
    })());
    const hard = await run(r, ['busybox', 'sleep', '1000']);
    const pid = (await inspect(r.d, hard)).State.Pid as number;
    await killAt(r, 'the container process died', () => !alive(pid), dockerAsync(r.d, ['stop', '-t', '0', hard]));
    const c = await inspect(r.d, hard);
    assert.equal(c.State.Running, false, 'the stopped container is not shown running');
    await coherentThenRemoved(r);
  });

  test(`kill -9 during docker rm -f, once the process died and once the runtime forgot it: restarted, rm -f finishes the removal${mode}`, async (t) => {
    const r = await rig(t, args);
    const first = await run(r, ['busybox', 'sleep', '1000']);
    const pid = (await inspect(r.d, first)).State.Pid as number;
    await killAt(r, 'the container process died', () => !alive(pid), dockerAsync(r.d, ['rm', '-f', first]));
    const second = await run(r, ['busybox', 'sleep', '1000']);
    const root = runtimeRootOf(r.dir);
    await killAt(r, 'the runtime deleted the container', () => !runcList(root).includes(second), dockerAsync(r.d, ['rm', '-f', second]));
    await coherentThenRemoved(r);
  });

  test(`kill -9 during docker exec, while the exec runs: coherent after restart, and after rm -f no exec process or monitor is left${mode}`, async (t) => {
    const r = await rig(t, args);
    const id = await run(r, ['busybox', 'sleep', '1000']);
    await killAt(r, 'the exec process runs', () => pidsOf(r, 'sleep 999').length > 0, dockerAsync(r.d, ['exec', id, 'sleep', '999']));
    await coherentThenRemoved(r);
    assert.deepEqual(pidsOf(r, 'sleep 999'), [], 'the exec process is gone');
  });
}
