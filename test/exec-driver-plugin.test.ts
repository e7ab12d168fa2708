// A third-party exec driver loaded with --plugin-dir runs containers through the exec contract
// alone: test/fixtures/plugins/exec-plain imports nothing of Berth, builds its own config.json
// from the container store's runtime-neutral description and runs runc in the foreground.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { docker, makeTempDir, REPO, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';

const PLAIN = join(REPO, 'test/fixtures/plugins/exec-plain');
let d: RunningDaemon;
let work: string;

before(async () => {
  work = makeTempDir('bx-execdrv-');
  d = await startDaemon({ args: ['--plugin-dir', PLAIN, '--default-runtime', 'plain'] });
  await importBusybox(d.socket, work);
});

after(async () => {
  if (d) {
    await removeAllContainers(d.socket);
    await d.cleanup();
  }
  rmSync(work, { recursive: true, force: true });
});

const mountsUnder = (root: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4]?.startsWith(root));
const runcRecords = () => {
  const root = join(d.execRoot, 'runtimes', 'plain', 'runc');
  return existsSync(root) ? readdirSync(root) : [];
};

test('docker info shows the plugin\'s runtime as the default', async () => {
  const info = JSON.parse((await docker(d.socket, ['info', '--format', '{{json .}}'])).stdout);
  assert.equal(info.DefaultRuntime, 'plain');
  assert.equal(info.Runtimes.plain?.path, '/usr/sbin/runc');
  assert.ok(info.Runtimes.runc, 'the built-in runc is still there for --runtime runc');
});

test('docker run --rm busybox echo hi: "hi", exit 0, and the container is gone', async () => {
  const r = await docker(d.socket, ['run', '--rm', 'busybox', 'echo', 'hi'], { timeoutMs: 60_000 });
  assert.equal(r.stdout, 'hi\n', r.stderr);
  assert.equal((await docker(d.socket, ['ps', '-aq'])).stdout, '');
  assert.deepEqual(runcRecords(), [], 'runc holds no record of it');
  assert.deepEqual(mountsUnder(d.dataRoot), [], 'its root file system is unmounted');
  // The container's own exit code and streams come through the contract too.
  const failed = await docker(d.socket, ['run', '--rm', 'busybox', 'sh', '-c', 'echo oops >&2; exit 3'], { timeoutMs: 60_000, expectCode: 3 });
  assert.equal(failed.code, 3);
  assert.equal(failed.stderr, 'oops\n');
});

test('a detached container: exec, logs and stop through the plugin\'s driver', async () => {
  const id = (await docker(d.socket, ['run', '-d', '--name', 'bx-plain', '-e', 'FOO=bar', '-w', '/tmp', 'busybox', 'sh', '-c', 'echo started; exec sleep 60'], { timeoutMs: 60_000 })).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const inspect = JSON.parse((await docker(d.socket, ['inspect', 'bx-plain'])).stdout)[0];
  assert.equal(inspect.HostConfig.Runtime, 'plain');
  assert.equal(inspect.State.Running, true);
  assert.ok(inspect.State.Pid > 0);
  const ex = await docker(d.socket, ['exec', 'bx-plain', 'sh', '-c', 'echo "$FOO in $(pwd)"; exit 4'], { timeoutMs: 30_000, expectCode: 4 });
  assert.equal(ex.stdout, 'bar in /tmp\n');
  assert.equal(ex.code, 4);
  assert.equal((await docker(d.socket, ['logs', 'bx-plain'])).stdout, 'started\n');
  await docker(d.socket, ['stop', '-t', '1', 'bx-plain'], { timeoutMs: 30_000 });
  const stopped = JSON.parse((await docker(d.socket, ['inspect', 'bx-plain'])).stdout)[0].State;
  assert.equal(stopped.Running, false);
  assert.equal(stopped.ExitCode, 137, 'sleep ignores SIGTERM: the stop timeout kills it');
  await docker(d.socket, ['rm', 'bx-plain']);
  assert.deepEqual(runcRecords(), []);
});

test('what the driver cannot do is refused with its own words, and nothing is left', async () => {
  const r = await docker(d.socket, ['run', '--rm', '--privileged', 'busybox', 'true'], { timeoutMs: 60_000, expectCode: 'failure' });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /runtime plain: --privileged is not supported by this driver/);
  assert.equal((await docker(d.socket, ['ps', '-aq'])).stdout, '');
  assert.deepEqual(mountsUnder(d.dataRoot), []);
  // The built-in runtime still runs what this one refuses.
  const ok = await docker(d.socket, ['run', '--rm', '--runtime', 'runc', '--privileged', 'busybox', 'echo', 'runc did'], { timeoutMs: 60_000 });
  assert.equal(ok.stdout, 'runc did\n', ok.stderr);
});
