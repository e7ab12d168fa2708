// Fault suite, full disk: the data root on a 64 MB tmpfs filled to the brim (blocks and inodes).
// A container exiting then must not kill the daemon; the daemon must start on it (so an operator
// can free space through the API); a tag, rename or network create the disk refuses must leave
// nothing in memory, before and after a restart; a pull (from a registry on 127.0.0.1) or a load
// the disk stops half-way, or at once, fails with a clear error and leaves nothing, and works once
// there is space again.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { apiRequest, docker, makeTempDir, onCleanup, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { importBusybox } from './helpers/busybox.js';
import { mountSmallDisk, unmountUnder, type SmallDisk } from './helpers/small-disk.js';
import { makeDockerArchive, makeRandomLayer } from './helpers/docker-archive.js';
import { startRegistry } from './helpers/registry.js';
import { makeBusyboxRootfs } from './helpers/rootfs.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A test folder whose data/ is a small tmpfs; the daemons started on it are stopped before it is unmounted. */
function smallDiskDir(t: Parameters<typeof onCleanup>[0]): { dir: string; disk: SmallDisk; work: string } {
  const dir = makeTempDir('berth-fault-disk-');
  const work = makeTempDir('berth-fault-work-');
  let disk: SmallDisk;
  try {
    disk = mountSmallDisk(join(dir, 'data'));
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  onCleanup(t, () => {
    unmountUnder(join(dir, 'exec'));
    disk.unmount();
    rmSync(dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });
  return { dir, disk, work };
}

async function started(t: Parameters<typeof onCleanup>[0], dir: string, args: string[] = []): Promise<RunningDaemon> {
  const d = await startDaemon({ dir, args });
  onCleanup(t, () => d.cleanup());
  return d;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v !== undefined) return v;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const onDisk = (d: RunningDaemon, id: string) => JSON.parse(readFileSync(join(d.dataRoot, 'containers', id, 'config.v2.json'), 'utf8'));

test('a container exiting on a full data root: the daemon stays up, logs it and keeps the exit; after kill -9 it starts on the full disk and saves the exit when space returns', async (t) => {
  const { dir, disk, work } = smallDiskDir(t);
  const d = await started(t, dir);
  await importBusybox(d.socket, work);
  const run = await docker(d.socket, ['run', '-d', 'busybox', 'sleep', '1000']);
  const id = run.stdout.trim();
  onCleanup(t, () => docker(d.socket, ['rm', '-f', id], { expectCode: 'any' }));
  const pid = (await apiRequest(d.socket, 'GET', `/containers/${id}/json`)).json().State.Pid as number;
  assert.ok(pid > 0);

  disk.fill();
  process.kill(pid, 'SIGKILL');
  const state = await until('the exit to be seen', async () => {
    const r = await apiRequest(d.socket, 'GET', `/containers/${id}/json`);
    return r.status === 200 && !r.json().State.Running ? r.json().State : undefined;
  });
  assert.equal(d.proc.exitCode, null, `the daemon is still running\n${d.logs().slice(-2000)}`);
  assert.equal(state.Status, 'exited');
  assert.equal(state.ExitCode, 137);
  // Logged at error level, with the container and the file that could not be written.
  const line = d.logs().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
    .find((l) => l.container === id && l.level >= 50 && typeof l.path === 'string' && l.path.endsWith('config.v2.json'));
  assert.ok(line, `an error line names the container and the path:\n${d.logs().slice(-3000)}`);
  assert.match(line.err, /ENOSPC/);
  // The operator sees it, and the API answers.
  const info = (await apiRequest(d.socket, 'GET', '/info')).json();
  assert.ok((info.Warnings ?? []).some((w: string) => w.includes(id)), `docker info warns: ${JSON.stringify(info.Warnings)}`);
  assert.equal(onDisk(d, id).State.Running, true, 'the disk still holds the old record');
  const ps = await docker(d.socket, ['ps', '-a', '--format', '{{.ID}} {{.Status}}']);
  assert.match(ps.stdout, /Exited \(137\)/);

  // kill -9 now (the exit only in memory, the network sandbox stale on disk) and start again on
  // the full data root, no block and no inode left: it comes up on its overlay layers, with the
  // container not running, and frees space on request.
  d.proc.kill('SIGKILL');
  await d.exited;
  unmountUnder(join(dir, 'exec'));
  const again = await started(t, dir);
  const info2 = (await apiRequest(again.socket, 'GET', '/info')).json();
  assert.equal(info2.Driver, 'overlay', 'the prior driver is kept');
  assert.match(again.logs(), new RegExp(`cannot write under ${join(again.dataRoot, 'overlay')}`), 'the probe names the path');
  assert.equal(info2.ContainersRunning, 0);
  assert.ok((info2.Warnings ?? []).some((w: string) => w.includes(id)), `docker info warns: ${JSON.stringify(info2.Warnings)}`);
  const images = await docker(again.socket, ['images', '--format', '{{.Repository}}:{{.Tag}}']);
  assert.equal(images.stdout.trim(), 'busybox:latest');

  // Space returns: the exit reaches the disk, and the warning goes.
  disk.free();
  await until('the exit saved', async () => (onDisk(again, id).State.Running === false ? true : undefined));
  const info3 = (await apiRequest(again.socket, 'GET', '/info')).json();
  assert.ok(!(info3.Warnings ?? []).some((w: string) => w.includes(id)), 'no warning once saved');
  disk.fill();
  await docker(again.socket, ['rm', '-f', id]);
  await docker(again.socket, ['rmi', 'busybox']);
  assert.equal((await docker(again.socket, ['images', '-q'])).stdout.trim(), '');
});

test('on a full data root, tag, rename and network create answer an error and change nothing, before or after a restart', async (t) => {
  const { dir, disk, work } = smallDiskDir(t);
  const d = await started(t, dir);
  await importBusybox(d.socket, work);
  const created = await docker(d.socket, ['create', '--name', 'first', 'busybox', 'true']);
  const id = created.stdout.trim();

  const check = async (daemon: RunningDaemon) => {
    const tags = (await docker(daemon.socket, ['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.trim().split('\n');
    assert.deepEqual(tags, ['busybox:latest'], 'no tag was added');
    await docker(daemon.socket, ['image', 'inspect', 'busybox:full'], { expectCode: 1 });
    const names = (await docker(daemon.socket, ['ps', '-a', '--format', '{{.Names}}'])).stdout.trim();
    assert.equal(names, 'first', 'the container kept its name');
    assert.equal((await apiRequest(daemon.socket, 'GET', '/containers/second/json')).status, 404);
    const nets = (await docker(daemon.socket, ['network', 'ls', '--format', '{{.Name}}'])).stdout.trim().split('\n').sort();
    assert.ok(!nets.includes('fullnet'), `no network was added: ${nets}`);
  };

  disk.fill();
  const tag = await docker(d.socket, ['tag', 'busybox', 'busybox:full'], { expectCode: 'failure' });
  assert.match(tag.stderr, /no space left on device/);
  const rename = await docker(d.socket, ['rename', 'first', 'second'], { expectCode: 'failure' });
  assert.match(rename.stderr, /no space left on device/);
  // A network whose bridge the driver makes: refused, and no bridge is left on the host.
  const net = await docker(d.socket, ['network', 'create', '--internal', '--subnet', '10.213.77.0/24', 'fullnet'], { expectCode: 'failure' });
  assert.match(net.stderr, /no space left on device/);
  assert.doesNotMatch(execFileSync('ip', ['-o', 'addr', 'show']).toString(), /10\.213\.77\.1\//, 'no bridge is left behind');
  // A network on a bridge the test made (the driver writes nothing): the store's write is refused.
  const own = `bft${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['link', 'add', own, 'type', 'bridge']);
  onCleanup(t, () => { try { execFileSync('ip', ['link', 'del', own]); } catch { /* gone */ } });
  const net2 = await docker(d.socket, ['network', 'create', '--internal', '--subnet', '10.213.78.0/24', '-o', `com.docker.network.bridge.name=${own}`, 'fullnet'], { expectCode: 'failure' });
  assert.match(net2.stderr, /no space left on device/);
  await check(d);

  await d.stop();
  disk.free();
  const again = await started(t, dir);
  await check(again);
  // With space back, the same requests work.
  await docker(again.socket, ['tag', 'busybox', 'busybox:full']);
  await docker(again.socket, ['rename', 'first', 'second']);
  await docker(again.socket, ['rm', id]);
});

/** The files (not folders) under the data root, but for what fill() wrote. */
function filesUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (p === join(root, '.fill')) continue;
      if (e.isDirectory()) walk(p);
      else out.push(p.slice(root.length + 1));
    }
  };
  walk(root);
  return out.sort();
}

/**
 * `op` (a pull or a load of a 14 MB image) on a data root the disk fills half-way (6 MB left) and
 * then at once: each time a clear error, the daemon up, no file more than before, the same after a
 * restart; then with space back the same op works.
 */
async function refusedThenWorks(t: Parameters<typeof onCleanup>[0], op: (d: RunningDaemon, expectCode: 0 | 'failure') => Promise<{ stderr: string }>, ref: string): Promise<void> {
  const { dir, disk } = smallDiskDir(t);
  const d = await started(t, dir);
  const before = filesUnder(d.dataRoot);
  const nothing = async (daemon: RunningDaemon, when: string) => {
    assert.equal((await apiRequest(daemon.socket, 'GET', '/_ping')).status, 200, `${when}: the daemon answers`);
    assert.deepEqual((await apiRequest(daemon.socket, 'GET', '/images/json?all=1')).json(), [], `${when}: no image`);
    // (The default networks' records are written after ready: not the op's.)
    const added = filesUnder(daemon.dataRoot).filter((f) => !before.includes(f) && !f.startsWith('plugins/network/'));
    assert.deepEqual(added, [], `${when}: no file left of it`);
  };
  for (const [leave, when] of [[6 << 20, 'disk full half-way'], [0, 'disk full from the start']] as const) {
    disk.fill(leave);
    const r = await op(d, 'failure');
    assert.match(r.stderr, /no space left on device/, when);
    await nothing(d, when);
    disk.free();
  }
  await d.stop();
  const again = await started(t, dir);
  await nothing(again, 'after a restart');
  await op(again, 0);
  const tags = (await docker(again.socket, ['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.trim();
  assert.equal(tags, ref);
}

test('a pull or a load that fills the data root fails with a clear error, leaves nothing, and works once there is space again', async (t) => {
  const work = makeTempDir('berth-fault-images-');
  onCleanup(t, () => rmSync(work, { recursive: true, force: true }));
  const registry = await startRegistry();
  onCleanup(t, () => registry.stop());
  const ref = `${registry.host}/t/full:1`;
  const archive = makeDockerArchive(work, [makeBusyboxRootfs(work).path, makeRandomLayer(work, 'big', 3, 4 << 20)], [ref]).path;
  const pusher = await startDaemon();
  onCleanup(t, () => pusher.cleanup());
  await docker(pusher.socket, ['load', '-i', archive]);
  await docker(pusher.socket, ['push', ref], { timeoutMs: 60_000 });
  await pusher.cleanup();

  await refusedThenWorks(t, (d, expectCode) => docker(d.socket, ['pull', ref], { expectCode, timeoutMs: 60_000 }), ref);
  await refusedThenWorks(t, (d, expectCode) => docker(d.socket, ['load', '-i', archive], { expectCode, timeoutMs: 60_000 }), ref);
});
