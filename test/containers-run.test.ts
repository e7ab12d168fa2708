// docker run and the running life cycle with the real CLI, runc and conmon.
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { test } from 'node:test';
import { apiRequest, docker, type DockerOptions, type RunningDaemon } from './helpers/daemon.js';
import { withBusyboxDaemon } from './helpers/busybox.js';
import { poll } from './helpers/poll.js';

let d: RunningDaemon;
withBusyboxDaemon('berth-run-', (daemon) => { d = daemon; });

const run = (args: string[], opts: DockerOptions = {}) => docker(d.socket, args, { timeoutMs: 60_000, ...opts });

test('docker run --rm busybox echo hi prints hi', async () => {
  const r = await run(['run', '--rm', 'busybox', 'echo', 'hi']);
  assert.equal(r.stdout, 'hi\n', r.stderr);
  assert.equal((await docker(d.socket, ['ps', '-aq'])).stdout.trim(), '', '--rm removed it');
});

test('docker run exits with the container\'s exit code', async () => {
  const r = await run(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 7'], { expectCode: 7 });
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
});

test('echo data | docker run -i --rm busybox cat prints data', async () => {
  const r = await run(['run', '-i', '--rm', 'busybox', 'cat'], { input: 'data\n' });
  assert.equal(r.stdout, 'data\n', r.stderr);
});

test('a detached container: ps, logs, stop -t 1, start, restart, kill -s, rm -f', async () => {
  const id = (await run(['run', '-d', '--name', 'x1', 'busybox', 'sh', '-c', 'echo started; trap "echo bye; exit 3" TERM; while true; do sleep 0.1; done'])).stdout.trim();
  assert.match(id, /^[a-f0-9]{64}$/);
  const ps = (await docker(d.socket, ['ps', '--format', '{{.Names}} {{.Status}}'])).stdout.trim();
  assert.match(ps, /^x1 Up /);
  const inspect = JSON.parse((await docker(d.socket, ['inspect', 'x1'])).stdout)[0];
  assert.equal(inspect.State.Running, true);
  assert.ok(inspect.State.Pid > 0);
  await poll(async () => (await docker(d.socket, ['logs', 'x1'])).stdout.includes('started'), { maxTries: 50, intervalMs: 100 });
  assert.equal((await docker(d.socket, ['logs', 'x1'])).stdout, 'started\n');
  await docker(d.socket, ['stop', '-t', '1', 'x1']);
  const stopped = JSON.parse((await docker(d.socket, ['inspect', 'x1'])).stdout)[0].State;
  assert.equal(stopped.Status, 'exited');
  assert.equal(stopped.ExitCode, 3, 'the TERM trap ran');
  assert.match((await docker(d.socket, ['logs', 'x1'])).stdout, /started\nbye\n/);
  await docker(d.socket, ['start', 'x1']);
  assert.equal(JSON.parse((await docker(d.socket, ['inspect', 'x1'])).stdout)[0].State.Running, true);
  const exec = await run(['exec', 'x1', 'sh', '-c', 'echo in-exec; echo to-err >&2; exit 5'], { expectCode: 5 });
  assert.equal(exec.stdout, 'in-exec\n');
  assert.equal(exec.stderr, 'to-err\n');
  const piped = await run(['exec', '-i', 'x1', 'cat'], { input: 'via stdin\n' });
  assert.equal(piped.stdout, 'via stdin\n', piped.stderr);
  await docker(d.socket, ['pause', 'x1']);
  assert.match((await docker(d.socket, ['ps', '--format', '{{.Status}}'])).stdout, /\(Paused\)/);
  assert.equal(JSON.parse((await docker(d.socket, ['inspect', 'x1'])).stdout)[0].State.Status, 'paused');
  assert.match((await docker(d.socket, ['pause', 'x1'], { expectCode: 'failure' })).stderr, /is already paused/);
  await docker(d.socket, ['unpause', 'x1']);
  assert.equal(JSON.parse((await docker(d.socket, ['inspect', 'x1'])).stdout)[0].State.Status, 'running');
  await docker(d.socket, ['restart', '-t', '1', 'x1']);
  assert.equal(JSON.parse((await docker(d.socket, ['inspect', 'x1'])).stdout)[0].State.Running, true);
  await docker(d.socket, ['kill', '-s', 'KILL', 'x1']);
  const wait = await docker(d.socket, ['wait', 'x1']);
  assert.equal(wait.stdout.trim(), '137');
  const notRunning = await docker(d.socket, ['kill', 'x1'], { expectCode: 'failure' });
  assert.match(notRunning.stderr, /Container [a-f0-9]{64} is not running/);
  await run(['start', 'x1']);
  const refused = await docker(d.socket, ['rm', 'x1'], { expectCode: 'failure' });
  assert.match(refused.stderr, /cannot remove container "\/[^"]+": container is running: stop the container before removing or force remove/);
  await docker(d.socket, ['rm', '-f', 'x1']);
  assert.equal((await apiRequest(d.socket, 'GET', '/containers/x1/json')).status, 404);
});

test('secure defaults: a default container cannot mount, a privileged one can', async () => {
  const denied = await run(['run', '--rm', 'busybox', 'busybox', 'mount', '-t', 'tmpfs', 'none', '/tmp'], { expectCode: 'failure' });
  assert.match(denied.stderr, /permission denied|Operation not permitted/i);
  await run(['run', '--rm', '--privileged', 'busybox', 'busybox', 'mount', '-t', 'tmpfs', 'none', '/tmp']);
});

test('--pid host and --ipc host share the host\'s namespaces; --ulimit sets the process\'s limits', async () => {
  const ns = async (kind: string, flags: string[]) => {
    const r = await run(['run', '--rm', ...flags, 'busybox', 'busybox', 'readlink', `/proc/self/ns/${kind}`]);
    return r.stdout.trim();
  };
  for (const kind of ['pid', 'ipc']) {
    const host = readlinkSync(`/proc/self/ns/${kind}`);
    assert.equal(await ns(kind, [`--${kind}`, 'host']), host, `--${kind} host`);
    assert.notEqual(await ns(kind, []), host, `a private ${kind} namespace by default`);
  }
  const limits = await run(['run', '--rm', '--ulimit', 'nofile=1024:2048', 'busybox', 'sh', '-c', 'ulimit -Sn; ulimit -Hn']);
  assert.equal(limits.stdout, '1024\n2048\n', limits.stderr);
});

test('container events: create, attach, start, die, destroy', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  await run(['run', '--rm', '--name', 'evt', 'busybox', 'true']);
  const until = String(Math.floor(Date.now() / 1000) + 1);
  const out = (await docker(d.socket, ['events', '--since', String(since), '--until', until, '--filter', 'container=evt', '--format', '{{.Action}}'])).stdout.trim().split('\n');
  for (const a of ['create', 'attach', 'start', 'die', 'destroy']) assert.ok(out.includes(a), `${a} in ${out.join(',')}`);
});

test('a command that does not exist: docker run exits 127 with the runtime\'s message, and --rm cleans up', async () => {
  const r = await run(['run', '--rm', 'busybox', 'nosuchcommand'], { expectCode: 127 });
  assert.match(r.stderr, /executable file not found/);
  assert.equal((await docker(d.socket, ['ps', '-aq'])).stdout.trim(), '');
});
