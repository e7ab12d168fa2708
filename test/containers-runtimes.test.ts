// Runtimes: runc by default, crun selectable from daemon.json's "runtimes" and --runtime; a runtime
// that fails fails the start with its own words and leaves nothing behind.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { docker, makeTempDir, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';

const CRUN = '/usr/bin/crun';
let d: RunningDaemon;
let dir: string;
let work: string;

before(async () => {
  dir = makeTempDir('berth-runtimes-');
  work = makeTempDir('berth-runtimes-work-');
  writeFileSync(join(dir, 'daemon.json'), JSON.stringify({ runtimes: { crun: { path: CRUN } } }));
  d = await startDaemon({ dir });
  await importBusybox(d.socket, work);
});
after(async () => {
  await removeAllContainers(d.socket);
  await d?.cleanup();
  rmSync(dir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const mountsUnder = (root: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4]?.startsWith(root));
const cgroupsOf = (id: string) => readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h, 'berth', id)).filter((p) => existsSync(p));
const runtimeRecords = (name: string) => {
  const folder = join(d.execRoot, 'runtimes', name, 'containers');
  return existsSync(folder) ? readdirSync(folder) : [];
};

test('docker info lists runc and the configured crun; inspect records the runtime used', async () => {
  const info = JSON.parse((await docker(d.socket, ['info', '--format', '{{json .}}'])).stdout);
  assert.ok(info.Runtimes.runc, JSON.stringify(info.Runtimes));
  assert.equal(info.Runtimes.crun?.path, CRUN);
  assert.equal(info.DefaultRuntime, 'runc');
  const id = (await docker(d.socket, ['create', 'busybox', 'true'])).stdout.trim();
  const hc = JSON.parse((await docker(d.socket, ['inspect', id])).stdout)[0].HostConfig;
  assert.equal(hc.Runtime, 'runc', 'the default runtime is recorded by name, as dockerd does');
  await docker(d.socket, ['rm', id]);
});

test('an unknown runtime is refused at create with dockerd\'s message, and nothing is created', async () => {
  const before = (await docker(d.socket, ['ps', '-aq'])).stdout;
  const r = await docker(d.socket, ['run', '--rm', '--runtime', 'nope', 'busybox', 'true'], { timeoutMs: 30_000, expectCode: 125 });
  assert.match(r.stderr, /unknown or invalid runtime name: nope/);
  assert.equal((await docker(d.socket, ['ps', '-aq'])).stdout, before);
});

test('--runtime crun runs the container, or fails with crun\'s own message and a clean state', async () => {
  const r = await docker(d.socket, ['run', '--name', 'c1', '--runtime', 'crun', 'busybox', 'echo', 'from crun'], { timeoutMs: 60_000, expectCode: 'any' });
  const inspect = JSON.parse((await docker(d.socket, ['inspect', 'c1'])).stdout)[0];
  assert.equal(inspect.HostConfig.Runtime, 'crun');
  if (r.code === 0) {
    // A host crun supports (a pure cgroup v2 or v1 layout).
    assert.equal(r.stdout, 'from crun\n');
    assert.equal(inspect.State.ExitCode, 0);
  } else {
    // Debian's crun 1.8 refuses a hybrid cgroup layout: the user reads crun's reason (125: the
    // CLI's code for a start that failed for another reason than a missing or denied command).
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /runtime crun: .*OCI runtime create failed: \S/);
    assert.equal(inspect.State.Running, false);
    assert.equal(inspect.State.ExitCode, 128);
    assert.match(inspect.State.Error, /OCI runtime create failed/);
    // Nothing left: no runtime record, no monitor, no mount of the container's root.
    assert.deepEqual(runtimeRecords('crun'), []);
    assert.deepEqual(mountsUnder(d.dataRoot), []);
    assert.deepEqual(cgroupsOf(inspect.Id), [], 'no cgroup left by the failed runtime');
  }
  await docker(d.socket, ['rm', 'c1']);
  // The default runtime is unaffected.
  const ok = await docker(d.socket, ['run', '--rm', 'busybox', 'echo', 'runc still'], { timeoutMs: 60_000 });
  assert.equal(ok.stdout, 'runc still\n', ok.stderr);
});

test('docker run --rm --runtime crun busybox echo hi: "hi", or crun\'s own words; no container left either way', async () => {
  const r = await docker(d.socket, ['run', '--rm', '--runtime', 'crun', 'busybox', 'echo', 'hi'], { timeoutMs: 60_000, expectCode: 'any' });
  if (r.code === 0) {
    assert.equal(r.stdout, 'hi\n');
  } else {
    assert.equal(r.code, 125, r.stderr);
    // crun's reason follows the driver's prefix (Debian's crun 1.8 on a hybrid cgroup layout).
    assert.match(r.stderr, /runtime crun: container [0-9a-f]{64}: OCI runtime create failed: \S/);
  }
  // --rm removed it either way: docker ps -a agrees with the runtime's and the host's state.
  assert.equal((await docker(d.socket, ['ps', '-aq'])).stdout, '');
  assert.deepEqual(runtimeRecords('crun'), []);
  assert.deepEqual(mountsUnder(d.dataRoot), []);
});

test('default-runtime selects crun for every container', async () => {
  const dir2 = makeTempDir('berth-runtimes2-');
  writeFileSync(join(dir2, 'daemon.json'), JSON.stringify({ 'default-runtime': 'crun', runtimes: { crun: { path: CRUN } } }));
  const d2 = await startDaemon({ dir: dir2 });
  try {
    const info = JSON.parse((await docker(d2.socket, ['info', '--format', '{{json .}}'])).stdout);
    assert.equal(info.DefaultRuntime, 'crun');
    await importBusybox(d2.socket, work);
    const id = (await docker(d2.socket, ['create', 'busybox', 'true'])).stdout.trim();
    assert.equal(JSON.parse((await docker(d2.socket, ['inspect', id])).stdout)[0].HostConfig.Runtime, 'crun');
    await docker(d2.socket, ['rm', id]);
  } finally {
    await d2.cleanup();
    rmSync(dir2, { recursive: true, force: true });
  }
});
