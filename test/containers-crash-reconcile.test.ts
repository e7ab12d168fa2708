// Issue 13 item 6: kill -9 of the daemon early in ten parallel `docker run -d` left runc
// containers in "created" with live `runc init` processes and cgroups that no `docker rm -f`
// removed. A restarted daemon reconciles with the runtime's own state (its --root): what no
// record owns, or what a record says is not running, is killed and deleted with its monitor,
// cgroup and mounts. Only this test's own processes are looked at, by its data and exec roots.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { docker, DOCKER_CONFIG, makeTempDir, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { importBusybox } from './helpers/busybox.js';
import { cgroupsOf, mountsOf, ownProcesses, runcList as runcListOf, runtimeRootOf } from './helpers/crash.js';

let d: RunningDaemon | undefined;
const dir = makeTempDir('berth-crash-');
const work = makeTempDir('berth-crash-work-');
const runtimeRoot = runtimeRootOf(dir);

const own = (ids: Set<string>) => ownProcesses(dir, ids);
const runcList = () => runcListOf(runtimeRoot);

/** The real CLI, not waited for by the test's request timeouts: the daemon dies under it. */
function dockerRun(socket: string): Promise<void> {
  return new Promise((resolve) => {
    const p = spawn('docker', ['-H', `unix://${socket}`, 'run', '-d', 'busybox', 'sleep', '100'], { env: { ...process.env, DOCKER_CONFIG }, stdio: 'ignore' });
    const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.on('close', () => { clearTimeout(timer); resolve(); });
  });
}

after(async () => {
  // Whatever the outcome: the daemon stops (unmounting), and its containers go first.
  if (d) {
    const ids = (await docker(d.socket, ['ps', '-aq'], { expectCode: 'any' })).stdout.trim().split('\n').filter(Boolean);
    if (ids.length) await docker(d.socket, ['rm', '-f', ...ids], { timeoutMs: 60_000, expectCode: 'any' });
    await d.stop();
  }
  for (const id of runcList()) spawn('runc', ['--root', runtimeRoot, 'delete', '--force', id], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  for (const m of mountsOf(dir).reverse()) spawn('umount', ['-l', m], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  rmSync(dir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

test('kill -9 of the daemon during ten parallel docker run -d: after a restart nothing is left of them', async () => {
  d = await startDaemon({ dir });
  await importBusybox(d.socket, work);
  const ids = new Set<string>();
  // Three rounds, the kill a little later each time: once the runtime holds 1, 4, then 8 of the
  // round's containers, in the middle of their runc create and start (bounded: 20 s a round).
  let leftByCrash = 0;
  for (const held of [1, 4, 8]) {
    const before = runcList().length;
    const runs = Array.from({ length: 10 }, () => dockerRun(d!.socket));
    for (const t0 = Date.now(); Date.now() - t0 < 20_000 && runcList().length < before + held;) await new Promise((r) => setTimeout(r, 5));
    d.proc.kill('SIGKILL');
    await d.exited;
    await Promise.all(runs);
    for (const id of readdirSync(join(dir, 'data', 'containers'))) if (/^[a-f0-9]{64}$/.test(id)) ids.add(id);
    for (const id of runcList()) ids.add(id);
    leftByCrash += runcList().length - before;
    d = await startDaemon({ dir });
    // docker ps -a answers and agrees with the runtime: a running container is running in runc,
    // and runc holds nothing the daemon does not show as running.
    const ps = await docker(d.socket, ['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.State}}']);
    const rows = ps.stdout.trim().split('\n').filter(Boolean).map((l) => l.split(' '));
    const running = new Set(rows.filter(([, s]) => s === 'running').map(([id]) => id));
    for (const id of runcList()) assert.ok(running.has(id), `runc holds ${id}, which the daemon shows as ${rows.find(([x]) => x === id)?.[1] ?? 'unknown'}`);
  }
  assert.ok(leftByCrash > 0, 'the kills came while the runtime held containers of the runs');
  const all = (await docker(d.socket, ['ps', '-aq', '--no-trunc'])).stdout.trim().split('\n').filter(Boolean);
  for (const id of all) {
    await docker(d.socket, ['rm', '-f', id], { timeoutMs: 60_000 });
  }
  assert.equal((await docker(d.socket, ['ps', '-aq'])).stdout.trim(), '');
  // conmon exits a moment after its container: bounded wait for the stragglers.
  for (let i = 0; i < 50 && own(ids).filter((p) => !p.includes('berthd')).length; i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(runcList(), [], 'no runc container');
  assert.deepEqual(own(ids).filter((p) => !/berthd|bin\/berthd/.test(p)), [], 'no runc init, conmon or container process');
  assert.deepEqual(cgroupsOf(ids), [], 'no cgroup');
  assert.deepEqual(mountsOf(join(dir, 'data')).filter((m) => [...ids].some((id) => m.includes(id))), [], 'no container mount');
});
