// docker run --init and the daemon-wide init / init-path keys, with the real CLI, runc and tini.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { docker, type DockerOptions, makeTempDir, onCleanup, type RunningDaemon, startDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';

let d: RunningDaemon;
let work: string;

before(async () => {
  work = makeTempDir('berth-init-');
  d = await startDaemon();
  await importBusybox(d.socket, work);
});
after(async () => {
  if (d) await removeAllContainers(d.socket);
  await d?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

const run = (args: string[], opts: DockerOptions = {}) => docker(d.socket, args, { timeoutMs: 60_000, ...opts });
const cmdline = (out: string) => out.split('\0').filter(Boolean);

test('docker run --init: docker-init is pid 1 and runs the command; inspect keeps the user\'s command', async () => {
  const r = await run(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'cat /proc/1/cmdline']);
  assert.deepEqual(cmdline(r.stdout), ['/sbin/docker-init', '--', 'sh', '-c', 'cat /proc/1/cmdline']);
  const plain = await run(['run', '--rm', 'busybox', 'sh', '-c', 'cat /proc/1/cmdline']);
  // busybox sh execs a lone command: without an init, that command is pid 1.
  assert.deepEqual(cmdline(plain.stdout), ['cat', '/proc/1/cmdline'], 'no init without --init');

  const id = (await run(['create', '--init', 'busybox', 'sleep', '1000'])).stdout.trim();
  const c = JSON.parse((await docker(d.socket, ['inspect', id])).stdout)[0];
  assert.equal(c.HostConfig.Init, true);
  assert.equal(c.Path, 'sleep');
  assert.deepEqual(c.Args, ['1000']);
  await docker(d.socket, ['rm', id]);
});

test('docker run --init: docker stop ends the command through the init (SIGTERM forwarded, exit 143)', async () => {
  const id = (await run(['run', '-d', '--init', 'busybox', 'sleep', '1000'])).stdout.trim();
  assert.match(id, /^[a-f0-9]{64}$/);
  await docker(d.socket, ['stop', '-t', '5', id], { timeoutMs: 30_000 });
  const state = JSON.parse((await docker(d.socket, ['inspect', id])).stdout)[0].State;
  // sleep as pid 1 would ignore SIGTERM and die of the SIGKILL after 5 s (137); tini forwards it.
  assert.equal(state.ExitCode, 143);
  await docker(d.socket, ['rm', id]);
});

test('daemon --init makes every container run an init unless docker run --init=false', async (t) => {
  const d2 = await startDaemon({ args: ['--init'] });
  onCleanup(t, () => d2.cleanup());
  onCleanup(t, () => removeAllContainers(d2.socket));
  await importBusybox(d2.socket, work);
  const withInit = await docker(d2.socket, ['run', '--rm', 'busybox', 'cat', '/proc/1/cmdline'], { timeoutMs: 60_000 });
  assert.equal(cmdline(withInit.stdout)[0], '/sbin/docker-init');
  const without = await docker(d2.socket, ['run', '--rm', '--init=false', 'busybox', 'cat', '/proc/1/cmdline'], { timeoutMs: 60_000 });
  assert.deepEqual(cmdline(without.stdout), ['cat', '/proc/1/cmdline'], without.stderr);
});

test('an init-path that does not exist: docker run --init fails naming the path', async (t) => {
  const dir = makeTempDir('berth-init-path-');
  writeFileSync(join(dir, 'daemon.json'), JSON.stringify({ 'init-path': '/nonexistent/docker-init' }));
  const d3 = await startDaemon({ dir });
  onCleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  onCleanup(t, () => d3.cleanup());
  onCleanup(t, () => removeAllContainers(d3.socket));
  await importBusybox(d3.socket, work);
  const r = await docker(d3.socket, ['run', '--rm', '--init', 'busybox', 'true'], { timeoutMs: 60_000, expectCode: 'failure' });
  assert.match(r.stderr, /init binary \/nonexistent\/docker-init .*missing/);
  await docker(d3.socket, ['run', '--rm', 'busybox', 'true'], { timeoutMs: 60_000 });
});
