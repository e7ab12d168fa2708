// Supervision across daemon stops, as dockerd does it: --live-restore keeps containers running
// through a kill -9 of the daemon; without it shutdown stops them and records their exits; restart
// policies bring containers back at daemon start and after exits, with dockerd's back-off.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { apiRequest, docker, makeTempDir, onCleanup, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';
import { waitFor } from './helpers/poll.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Polls `check` (bounded); returns its last truthy value or throws naming `what`. */
const until = <T>(what: string, check: () => T | Promise<T>) => waitFor(what, check, { timeoutMs: 10_000, intervalMs: 50 });

const inspect = async (d: RunningDaemon, name: string) => {
  const r = await docker(d.socket, ['inspect', name]);
  return JSON.parse(r.stdout)[0];
};

const conmonPid = (d: RunningDaemon, id: string) =>
  Number.parseInt(readFileSync(join(d.execRoot, 'runtimes', 'runc', 'containers', id, 'conmon.pid'), 'utf8'), 10);

/** Kills, by pid, processes of ours a dead daemon left behind (checked by their command line). */
function killLeftovers(pids: { pid: number; mark: string }[]): void {
  for (const { pid, mark } of pids) {
    let cmdline = '';
    let cgroup = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    } catch {
      continue;
    }
    if (!cmdline.includes(mark) && !cgroup.includes(mark)) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A daemon with busybox imported; cleanup removes its containers before stopping it. */
async function daemonWithBusybox(t: { after: (fn: () => unknown) => void }, args: string[] = []) {
  const work = makeTempDir('berth-sup-');
  onCleanup(t, () => rmSync(work, { recursive: true, force: true }));
  const d = await startDaemon({ args });
  onCleanup(t, () => d.cleanup());
  await importBusybox(d.socket, work);
  return { d, work };
}

/** Restarts a daemon on the folders of `d` (data root, exec root, socket); cleaned up first. */
async function restartOn(t: { after: (fn: () => unknown) => void }, d: RunningDaemon, args: string[] = []) {
  const again = await startDaemon({ dir: d.dir, args });
  onCleanup(t, async () => {
    await removeAllContainers(again.socket);
    await again.cleanup();
  });
  return again;
}

// Prints a numbered line every 0.2 s until /ctl/stop exists, then exits 9 (bounded: 2 minutes).
const COUNTER = 'i=0; until cat /ctl/stop >/dev/null 2>&1; do echo line $i; i=$((i+1)); case $i in 600) exit 8;; esac; sleep 0.2; done; exit 9';

test('live-restore: containers outlive kill -9 of the daemon; exits while it was down are recorded', async (t) => {
  const { d, work } = await daemonWithBusybox(t, ['--live-restore']);
  const leftovers: { pid: number; mark: string }[] = [];
  // Runs before the daemons' cleanup only if registered after them: processes go after the daemons.
  onCleanup(t, () => killLeftovers(leftovers));
  const ctl = (n: string) => {
    const dir = join(work, `ctl-${n}`);
    mkdirSync(dir);
    return dir;
  };
  const info = await docker(d.socket, ['info', '--format', '{{.LiveRestoreEnabled}}']);
  assert.equal(info.stdout.trim(), 'true', info.stderr);

  const ctlA = ctl('a');
  const ctlB = ctl('b');
  const ctlC = ctl('c');
  for (const [name, dir] of [['lr-a', ctlA], ['lr-b', ctlB], ['lr-c', ctlC]]) {
    await docker(d.socket, ['run', '-d', '--name', name, '-v', `${dir}:/ctl`, 'busybox', 'sh', '-c', COUNTER]);
  }
  const [a, b, c] = await Promise.all(['lr-a', 'lr-b', 'lr-c'].map((n) => inspect(d, n)));
  for (const x of [a, b, c]) {
    leftovers.push({ pid: x.State.Pid, mark: x.Id }, { pid: conmonPid(d, x.Id), mark: x.Id });
  }
  await until('a to print', async () => (await docker(d.socket, ['logs', 'lr-a'])).stdout.includes('line 2'));
  const linesBefore = (await docker(d.socket, ['logs', 'lr-a'])).stdout.trim().split('\n').length;

  const killedAt = Date.now();
  d.proc.kill('SIGKILL');
  await d.exited;
  // While the daemon is down: b exits on its own; c loses its monitor, then its process.
  writeFileSync(join(ctlB, 'stop'), '');
  const conmonB = conmonPid(d, b.Id);
  await until('b and its monitor to end', () => !alive(b.State.Pid) && !alive(conmonB));
  const conmonC = conmonPid(d, c.Id);
  process.kill(conmonC, 'SIGKILL');
  await until('c\'s monitor to end', () => !alive(conmonC));
  process.kill(c.State.Pid, 'SIGKILL');
  await until('c to end', () => !alive(c.State.Pid));
  assert.ok(alive(a.State.Pid), 'a kept running while the daemon was down');

  const restartedAt = Date.now();
  const again = await restartOn(t, d, ['--live-restore']);
  const ps = (await docker(again.socket, ['ps', '--format', '{{.Names}} {{.Status}}'])).stdout.trim().split('\n');
  assert.equal(ps.length, 1, ps.join('\n'));
  assert.match(ps[0], /^lr-a Up /);
  assert.equal((await inspect(again, 'lr-a')).State.Pid, a.State.Pid, 'the same process, adopted');

  // The log has every line, those printed while the daemon was down included.
  const lines = (await docker(again.socket, ['logs', 'lr-a'])).stdout.trim().split('\n');
  assert.ok(lines.length > linesBefore, `${lines.length} lines now, ${linesBefore} before the kill`);
  assert.deepEqual(lines, lines.map((_, i) => `line ${i}`));

  const sb = (await inspect(again, 'lr-b')).State;
  assert.equal(sb.Status, 'exited');
  assert.equal(sb.Running, false);
  assert.equal(sb.ExitCode, 9, 'the real exit code, from the monitor\'s exit file');
  const finishedB = Date.parse(sb.FinishedAt);
  assert.ok(finishedB >= killedAt - 1000 && finishedB <= restartedAt + 1000, `b finished while the daemon was down (${sb.FinishedAt})`);

  const sc = (await inspect(again, 'lr-c')).State;
  assert.equal(sc.Status, 'exited', 'a container whose monitor is gone is not reported running');
  assert.equal(sc.Running, false);
  assert.equal(sc.ExitCode, 255);

  const wait = docker(again.socket, ['wait', 'lr-a']);
  writeFileSync(join(ctlA, 'stop'), '');
  const waited = await wait;
  assert.equal(waited.stdout.trim(), '9', waited.stderr);
  const sa = (await inspect(again, 'lr-a')).State;
  assert.equal(sa.Status, 'exited');
  assert.equal(sa.ExitCode, 9);
  assert.ok(Date.parse(sa.FinishedAt) >= restartedAt, `a finished after the restart (${sa.FinishedAt})`);
});

test('without live-restore: shutdown stops containers and records their exits; policies bring back the right ones', async (t) => {
  const { d } = await daemonWithBusybox(t);
  const info = await docker(d.socket, ['info', '--format', '{{.LiveRestoreEnabled}}']);
  assert.equal(info.stdout.trim(), 'false', info.stderr);
  const loop = 'trap "exit 0" TERM; while true; do sleep 0.1; done';
  const policies: Record<string, string> = { always: 'always', never: 'no', stopped: 'unless-stopped', unless: 'unless-stopped' };
  for (const [name, policy] of Object.entries(policies)) {
    await docker(d.socket, ['run', '-d', '--name', name, '--restart', policy, 'busybox', 'sh', '-c', loop]);
  }
  await docker(d.socket, ['stop', 'stopped']);
  const before = Object.fromEntries(await Promise.all(Object.keys(policies).map(async (n) => [n, await inspect(d, n)] as const)));

  assert.equal(await d.stop('SIGTERM'), 0, d.logs());
  for (const name of ['always', 'never', 'unless']) {
    assert.equal(alive(before[name].State.Pid), false, `${name}'s process is gone after shutdown`);
    const saved = JSON.parse(readFileSync(join(d.dataRoot, 'containers', before[name].Id, 'config.v2.json'), 'utf8'));
    assert.equal(saved.State.Status, 'exited', `${name}'s exit was recorded at shutdown`);
    assert.equal(saved.State.Running, false);
    assert.equal(saved.State.ExitCode, 0, 'stopped by its stop signal (the TERM trap ran)');
  }

  const again = await restartOn(t, d);
  const st = async (n: string) => (await inspect(again, n)).State;
  assert.equal((await st('always')).Running, true, 'always: started again');
  assert.notEqual((await st('always')).Pid, before.always.State.Pid);
  assert.equal((await st('unless')).Running, true, 'unless-stopped, not stopped by the user: started again');
  assert.equal((await st('never')).Status, 'exited', 'no: stays stopped');
  assert.equal((await st('stopped')).Status, 'exited', 'unless-stopped, stopped by the user: stays stopped');
});

test('without live-restore: after kill -9 of the daemon, its start stops what was left running; always comes back', async (t) => {
  const { d } = await daemonWithBusybox(t);
  const leftovers: { pid: number; mark: string }[] = [];
  onCleanup(t, () => killLeftovers(leftovers));
  const loop = 'trap "exit 0" TERM; while true; do sleep 0.1; done';
  for (const [name, policy] of [['crash-no', 'no'], ['crash-always', 'always']]) {
    await docker(d.socket, ['run', '-d', '--name', name, '--restart', policy, 'busybox', 'sh', '-c', loop]);
  }
  const no = await inspect(d, 'crash-no');
  const always = await inspect(d, 'crash-always');
  for (const x of [no, always]) leftovers.push({ pid: x.State.Pid, mark: x.Id }, { pid: conmonPid(d, x.Id), mark: x.Id });
  d.proc.kill('SIGKILL');
  await d.exited;
  assert.ok(alive(no.State.Pid), 'the monitor keeps the container running while the daemon is down');

  const again = await restartOn(t, d);
  // Requests other than /_ping wait until the daemon has restored its containers.
  const sn = (await inspect(again, 'crash-no')).State;
  assert.equal(alive(no.State.Pid), false, 'the daemon\'s start stopped it');
  assert.equal(sn.Status, 'exited');
  assert.equal(sn.ExitCode, 0, 'stopped by its stop signal');
  const sa = (await inspect(again, 'crash-always')).State;
  assert.equal(sa.Running, true, 'always: started again');
  assert.notEqual(sa.Pid, always.State.Pid);
  assert.equal(alive(always.State.Pid), false);
});

test('restart policies at run time: on-failure:N, always with back-off, stop and rm -f end them', async (t) => {
  const { d } = await daemonWithBusybox(t);
  onCleanup(t, async () => {
    await removeAllContainers(d.socket);
  });
  const since = Math.floor(Date.now() / 1000) - 1;

  // on-failure:2: the first run and two restarts, then it stays exited.
  await docker(d.socket, ['run', '-d', '--name', 'of', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 3']);
  const of = await until('on-failure to give up', async () => {
    const x = await inspect(d, 'of');
    return x.State.Status === 'exited' && x.RestartCount === 2 ? x : null;
  });
  assert.equal(of.State.ExitCode, 3);
  assert.equal(of.State.Restarting, false);
  const events = await docker(d.socket, ['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'container=of', '--format', '{{.Action}}']);
  assert.deepEqual(events.stdout.trim().split('\n'), ['create', 'start', 'die', 'start', 'die', 'start', 'die'], 'die then start for each restart, no restart event');

  // always: restarted after each exit; seen "restarting" during the back-off; docker stop ends it.
  await docker(d.socket, ['run', '-d', '--name', 'al', '--restart', 'always', 'busybox', 'sh', '-c', 'exit 0']);
  const al = await until('always to be restarted and back off', async () => {
    const x = await inspect(d, 'al');
    return x.RestartCount >= 3 && x.State.Status === 'restarting' ? x : null;
  });
  assert.equal(al.State.Running, true, 'a restarting container counts as running, as in dockerd');
  assert.match((await docker(d.socket, ['ps', '--filter', 'name=al', '--format', '{{.Status}}'])).stdout, /^Restarting \(0\) /);
  await docker(d.socket, ['stop', 'al']);
  const stopped = await inspect(d, 'al');
  assert.equal(stopped.State.Status, 'exited');
  assert.equal(stopped.State.Restarting, false);
  // Longer than the back-off it had reached (100 ms doubled per restart): still stopped.
  await sleep(Math.min(100 * 2 ** stopped.RestartCount, 3000) + 500);
  const later = await inspect(d, 'al');
  assert.equal(later.State.Status, 'exited');
  assert.equal(later.RestartCount, stopped.RestartCount);

  // docker start resets the count, as dockerd's restart manager reset does.
  const loop = 'trap "exit 0" TERM; while true; do sleep 0.1; done';
  await docker(d.socket, ['run', '-d', '--name', 'up', '--restart', 'always', 'busybox', 'sh', '-c', loop]);
  const first = await inspect(d, 'up');
  // A process that dies on its own is restarted.
  process.kill(first.State.Pid, 'SIGKILL');
  const second = await until('always to restart a killed process', async () => {
    const x = await inspect(d, 'up');
    return x.State.Status === 'running' && x.RestartCount === 1 ? x : null;
  });
  assert.notEqual(second.State.Pid, first.State.Pid);
  // docker kill (SIGKILL) cancels the policy, as dockerd's ExitOnNext does.
  await docker(d.socket, ['kill', 'up']);
  assert.equal((await docker(d.socket, ['wait', 'up'])).stdout.trim(), '137');
  await sleep(600);
  assert.equal((await inspect(d, 'up')).State.Status, 'exited');

  // rm -f during the back-off removes it.
  await docker(d.socket, ['run', '-d', '--name', 'rf', '--restart', 'always', 'busybox', 'sh', '-c', 'exit 1']);
  await until('rf to back off', async () => (await inspect(d, 'rf')).State.Status === 'restarting');
  await docker(d.socket, ['rm', '-f', 'rf']);
  assert.equal((await docker(d.socket, ['ps', '-aq', '--filter', 'name=rf'])).stdout.trim(), '');
});

test('restart policy checks at create: dockerd\'s 400s', async (t) => {
  const { d } = await daemonWithBusybox(t);
  const create = (hostConfig: object) => apiRequest(d.socket, 'POST', '/containers/create', { Image: 'busybox', HostConfig: hostConfig });
  const cases: [object, string][] = [
    [{ AutoRemove: true, RestartPolicy: { Name: 'always' } }, "can't create 'AutoRemove' container with restart policy"],
    [{ RestartPolicy: { Name: 'sometimes' } }, "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"],
    [{ RestartPolicy: { Name: 'always', MaximumRetryCount: 3 } }, "invalid restart policy: maximum retry count can only be used with 'on-failure'"],
    [{ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: -1 } }, 'invalid restart policy: maximum retry count cannot be negative'],
  ];
  for (const [hostConfig, message] of cases) {
    const r = await create(hostConfig);
    assert.equal(r.status, 400, r.body);
    assert.equal(r.json().message, message);
  }
  assert.equal((await docker(d.socket, ['ps', '-aq'])).stdout.trim(), '', 'nothing was created');
  const ok = await create({ AutoRemove: true, RestartPolicy: { Name: 'no' } });
  assert.equal(ok.status, 201, ok.body);
  await docker(d.socket, ['rm', ok.json().Id]);
});
