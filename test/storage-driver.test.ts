// Graph driver selection: the operator's choice, the probe's, options checked by the driver,
// and each driver's images kept apart.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { apiRequest, docker, makeTempDir, startDaemon } from './helpers/daemon.js';
import { makeBusyboxRootfs } from './helpers/rootfs.js';

test('without a choice the daemon uses overlay where a probe mount works, and says why', async (t) => {
  const d = await startDaemon();
  t.after(() => d.cleanup());
  const info = (await apiRequest(d.socket, 'GET', '/info')).json();
  assert.equal(info.Driver, 'overlay');
  assert.ok(info.DriverStatus.some(([k]: [string]) => k === 'Backing Filesystem'));
  assert.match(d.logs(), /"driver":"overlay","reason":"overlay mount works on [^"]+","msg":"graph driver selected"/);
  // The start line names the version, commit and the drivers in use, as dockerd's does.
  assert.match(d.logs(), /"version":"0\.1\.0","commit":"[^"]+","execdriver":"runc","graphdriver":"overlay","msg":"Berth daemon"/);
  const r = await docker(d.socket, ['info']);
  assert.match(r.stdout, / Storage Driver: overlay\n {2}Backing Filesystem: /);
});

test('a bad --storage-driver or --storage-opt stops the daemon naming it', async (t) => {
  const bad = await startDaemon({ args: ['-s', 'zfs'], waitReady: false });
  t.after(() => bad.cleanup());
  assert.notEqual(await bad.exited, 0);
  assert.match(bad.logs(), /storage-driver: no graph driver named "zfs" is loaded \(loaded: overlay, vfs\)/);
  const opt = await startDaemon({ args: ['-s', 'vfs', '--storage-opt', 'size=10G'], waitReady: false });
  t.after(() => opt.cleanup());
  assert.notEqual(await opt.exited, 0);
  assert.match(opt.logs(), /driver vfs: storage-opt\.size: unknown key/);
});

test('changing the storage driver leaves the other driver\'s images alone', async (t) => {
  const work = makeTempDir('berth-switch-');
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const rootfs = makeBusyboxRootfs(work);
  const first = await startDaemon({ args: ['-s', 'overlay'] });
  // Later daemons reuse first's folders: removing them is first.cleanup's job, after theirs.
  const later: (() => Promise<void>)[] = [];
  t.after(async () => {
    for (const c of later) await c();
    await first.cleanup();
  });
  await docker(first.socket, ['import', rootfs.path, 'kept:1']);
  assert.equal(await first.stop(), 0);

  const vfs = await startDaemon({ dir: first.dir, args: ['-s', 'vfs'] });
  later.push(vfs.cleanup);
  assert.equal((await apiRequest(vfs.socket, 'GET', '/info')).json().Driver, 'vfs');
  assert.deepEqual((await apiRequest(vfs.socket, 'GET', '/images/json')).json(), [], 'vfs has images of its own');
  await docker(vfs.socket, ['import', rootfs.path, 'vfs-only:1']);
  assert.equal(await vfs.stop(), 0);

  const back = await startDaemon({ dir: first.dir, args: ['-s', 'overlay'] });
  later.push(back.cleanup);
  const tags = (await apiRequest(back.socket, 'GET', '/images/json')).json().flatMap((i: { RepoTags: string[] }) => i.RepoTags);
  assert.deepEqual(tags, ['kept:1']);
});
