// Volumes with the real docker CLI: docker volume create / ls / inspect / rm / prune as dockerd
// answers them, the local driver's options (a real tmpfs), hostile names, and removal that never
// follows a symbolic link out of the volumes folder.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { apiRequest, docker, type DockerOptions, type RunningDaemon } from './helpers/daemon.js';
import { withBusyboxDaemon } from './helpers/busybox.js';

let d: RunningDaemon;
let work: string;
withBusyboxDaemon('berth-volumes-', (daemon, dir) => { d = daemon; work = dir; });

const run = (args: string[], opts: DockerOptions = {}) => docker(d.socket, args, { timeoutMs: 60_000, ...opts });
const out = async (args: string[]) => (await run(args)).stdout.trim();
const fails = async (args: string[]) => (await run(args, { expectCode: 'failure' })).stderr;
const mounted = (path: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === path);

test('a named volume keeps data between containers; inspect shows its Mountpoint; rm is refused while used', async () => {
  assert.equal(await out(['volume', 'create', 'v1']), 'v1');
  await run(['run', '--rm', '-v', 'v1:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f']);
  assert.equal(await out(['run', '--rm', '-v', 'v1:/data', 'busybox', 'cat', '/data/f']), 'kept');
  const [v] = JSON.parse(await out(['volume', 'inspect', 'v1']));
  assert.equal(v.Mountpoint, join(d.dataRoot, 'volumes', 'v1', '_data'));
  assert.equal(v.Driver, 'local');
  assert.equal(v.Scope, 'local');
  assert.deepEqual(v.Labels, {});
  assert.match(v.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(readFileSync(join(v.Mountpoint, 'f'), 'utf8'), 'kept\n');

  const id = await out(['create', '-v', 'v1:/data', 'busybox', 'true']);
  assert.match(await fails(['volume', 'rm', 'v1']), new RegExp(`remove v1: volume is in use - \\[${id}\\]`));
  // Creating it again with the same driver answers the same volume.
  assert.equal(await out(['volume', 'create', 'v1']), 'v1');
  const again = await apiRequest(d.socket, 'POST', '/volumes/create', { Name: 'v1', Driver: 'other' });
  assert.equal(again.status, 409);
  await run(['rm', id]);
  assert.equal(await out(['volume', 'rm', 'v1']), 'v1');
  assert.equal(existsSync(v.Mountpoint), false);
  assert.match(await fails(['volume', 'inspect', 'v1']), /no such volume/i);
  const gone = await apiRequest(d.socket, 'GET', '/volumes/v1');
  assert.equal(gone.status, 404);
  assert.equal(JSON.parse(gone.body).message, 'get v1: no such volume');
  // force forgives a missing volume, as dockerd.
  assert.equal((await apiRequest(d.socket, 'DELETE', '/volumes/v1?force=1')).status, 204);
});

test('ls filters (dangling, driver, label key and key=value, name substring) and prune', async () => {
  await run(['volume', 'create', '--label', 'team=a', '--label', 'tier', 'lsa']);
  await run(['volume', 'create', '--label', 'team=b', 'lsb']);
  const id = await out(['create', '-v', 'lsb:/x', 'busybox', 'true']);
  const names = async (...f: string[]) => (await out(['volume', 'ls', '-q', ...f.flatMap((x) => ['--filter', x])])).split('\n').filter((n) => n.startsWith('ls')).sort();
  assert.deepEqual(await names(), ['lsa', 'lsb']);
  assert.deepEqual(await names('dangling=true'), ['lsa']);
  assert.deepEqual(await names('dangling=false'), ['lsb']);
  assert.deepEqual(await names('label=team=b'), ['lsb']);
  assert.deepEqual(await names('label=tier'), ['lsa']);
  assert.deepEqual(await names('name=sa'), ['lsa']);
  assert.deepEqual(await names('driver=local', 'name=ls'), ['lsa', 'lsb']);
  assert.match(await fails(['volume', 'ls', '--filter', 'dangling=maybe']), /invalid filter 'dangling=maybe'/);
  assert.match(await fails(['volume', 'ls', '--filter', 'colour=red']), /Invalid filter 'colour'/);
  const list = JSON.parse((await apiRequest(d.socket, 'GET', '/volumes')).body);
  assert.deepEqual(list.Warnings, []);

  // An anonymous volume: a 64-hex name and the anonymous label.
  const anon = JSON.parse((await apiRequest(d.socket, 'POST', '/volumes/create', {})).body);
  assert.match(anon.Name, /^[0-9a-f]{64}$/);
  assert.deepEqual(anon.Labels, { 'com.docker.volume.anonymous': '' });
  // API 1.42+: only anonymous unused volumes, unless all=true.
  const pruned = JSON.parse((await apiRequest(d.socket, 'POST', '/v1.44/volumes/prune')).body);
  assert.deepEqual(pruned.VolumesDeleted, [anon.Name]);
  assert.equal(typeof pruned.SpaceReclaimed, 'number');
  const labelled = JSON.parse((await apiRequest(d.socket, 'POST', `/v1.44/volumes/prune?filters=${encodeURIComponent('{"all":["true"],"label":["team=a"]}')}`)).body);
  assert.deepEqual(labelled.VolumesDeleted, ['lsa']);
  // Below 1.42 every unused volume goes; lsb is in use and stays.
  await run(['volume', 'create', 'old-api']);
  const old = JSON.parse((await apiRequest(d.socket, 'POST', '/v1.41/volumes/prune')).body);
  assert.ok(old.VolumesDeleted.includes('old-api'));
  assert.ok(!old.VolumesDeleted.includes('lsb'));
  await run(['rm', id]);
  assert.match(await out(['volume', 'prune', '-a', '-f']), /lsb/);
  const none = JSON.parse((await apiRequest(d.socket, 'POST', '/volumes/prune')).body);
  assert.deepEqual(none, { VolumesDeleted: null, SpaceReclaimed: 0 });
});

test('docker system prune --volumes takes unused anonymous volumes and keeps named ones, as dockerd from API 1.42', async () => {
  await run(['volume', 'create', 'sp-named']);
  const id = await out(['run', '-d', '-v', '/sp-anon', '-v', 'sp-named:/n', 'busybox', 'sleep', '1000']);
  const [c] = JSON.parse(await out(['inspect', id]));
  const anon = (c.Mounts as { Name: string; Destination: string }[]).find((m) => m.Destination === '/sp-anon')!.Name;
  assert.match(anon, /^[0-9a-f]{64}$/);
  // In use by a running container (system prune takes stopped ones first): nothing of it goes.
  await run(['system', 'prune', '--volumes', '-f']);
  assert.match(await out(['volume', 'ls', '-q']), new RegExp(anon));
  await run(['rm', '-f', id]); // without -v: the anonymous volume stays for prune to find
  const pruned = await out(['system', 'prune', '--volumes', '-f']);
  assert.match(pruned, new RegExp(`Deleted Volumes:\\n${anon}`));
  const left = (await out(['volume', 'ls', '-q'])).split('\n');
  assert.ok(!left.includes(anon), `the anonymous volume is gone: ${left.join(' ')}`);
  assert.ok(left.includes('sp-named'), 'the named volume stays');
  await run(['volume', 'rm', 'sp-named']);
});

test('volume rm racing a create that mounts the volume: a container that was created always finds its volume', async () => {
  // Back to back, as client libraries send them: the rm lands before, during or after the create.
  for (let i = 0; i < 12; i++) {
    const name = `race${i}`;
    await run(['volume', 'create', name]);
    const create = apiRequest(d.socket, 'POST', `/containers/create?name=race-c${i}`, { Image: 'busybox', Cmd: ['true'], HostConfig: { Binds: [`${name}:/etc`] } });
    const rm = new Promise((r) => setTimeout(r, (i % 6) * 4)).then(() => apiRequest(d.socket, 'DELETE', `/volumes/${name}`));
    const [c, r] = await Promise.all([create, rm]);
    assert.equal(c.status, 201, c.body);
    assert.ok([204, 409].includes(r.status), `rm answered ${r.status} ${r.body}`);
    const v = await apiRequest(d.socket, 'GET', `/volumes/${name}`);
    assert.equal(v.status, 200, `round ${i}: the container was created but its volume is gone (rm answered ${r.status})`);
    await run(['rm', '-v', `race-c${i}`]);
    await run(['volume', 'rm', '-f', name]);
  }
});

test('local driver options: a tmpfs volume is mounted while used and unmounted after; bad combinations get dockerd\'s messages', async () => {
  await run(['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=2m,uid=1000', 't1']);
  const [v] = JSON.parse(await out(['volume', 'inspect', 't1']));
  assert.deepEqual(v.Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=2m,uid=1000' });
  assert.equal(mounted(v.Mountpoint), false, 'not mounted before its first user');
  const mounts = await out(['run', '--rm', '-v', 't1:/data', 'busybox', 'sh', '-c', 'cat /proc/mounts; busybox stat -c %u /data']);
  assert.match(mounts, /^tmpfs \/data tmpfs .*size=2048k/m);
  assert.match(mounts, /\n1000$/);
  assert.equal(mounted(v.Mountpoint), false, 'unmounted after its last user');
  await run(['volume', 'rm', 't1']);

  assert.match(await fails(['volume', 'create', '--opt', 'device=tmpfs', 'bad']), /missing required option: "type"/);
  assert.match(await fails(['volume', 'create', '--opt', 'type=tmpfs', 'bad']), /missing required option: "device"/);
  assert.match(await fails(['volume', 'create', '--opt', 'o=size=1m', 'bad']), /missing required option: "device"/);
  assert.match(await fails(['volume', 'create', '--opt', 'colour=red', 'bad']), /invalid option: "colour"/);
  assert.match(await fails(['volume', 'create', '--opt', 'size=10m', 'bad']), /quota size requested but no quota support/);
  // A bind of a host folder (type none, o bind).
  const host = join(work, 'bindsrc');
  mkdirSync(host);
  writeFileSync(join(host, 'hello'), 'from host\n');
  await run(['volume', 'create', '--opt', 'type=none', '--opt', 'o=bind', '--opt', `device=${host}`, 'b1']);
  assert.equal(await out(['run', '--rm', '-v', 'b1:/data', 'busybox', 'cat', '/data/hello']), 'from host');
  await run(['volume', 'rm', 'b1']);
  assert.equal(readFileSync(join(host, 'hello'), 'utf8'), 'from host\n', 'removing a bind volume leaves the host folder alone');
  assert.equal((await apiRequest(d.socket, 'GET', '/volumes/bad')).status, 404, 'nothing half made');
});

test('an unknown driver is 404 as dockerd words it', async () => {
  const r = await apiRequest(d.socket, 'POST', '/volumes/create', { Name: 'x1', Driver: 'nosuch' });
  assert.equal(r.status, 404);
  assert.equal(JSON.parse(r.body).message, 'create x1: error looking up volume plugin nosuch: plugin "nosuch" not found');
  const info = JSON.parse(await out(['info', '--format', '{{json .Plugins.Volume}}']));
  assert.deepEqual(info, ['local']);
});

test('hostile names are refused; removal never follows a symbolic link out of the volumes folder', async () => {
  for (const name of ['../x', 'a/b', '..', '.hidden']) {
    const r = await apiRequest(d.socket, 'POST', '/volumes/create', { Name: name });
    assert.equal(r.status, 400, name);
    assert.match(JSON.parse(r.body).message, /includes invalid characters for a local volume name/);
  }
  assert.match(await fails(['run', '--rm', '-v', 'a/b:/data', 'busybox', 'true']), /invalid|includes invalid characters/);
  const outside = join(work, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'precious'), 'keep\n');
  await run(['volume', 'create', 'sl']);
  const data = join(d.dataRoot, 'volumes', 'sl', '_data');
  symlinkSync(outside, join(data, 'link'));
  await run(['volume', 'rm', 'sl']);
  assert.equal(readFileSync(join(outside, 'precious'), 'utf8'), 'keep\n');
  // A volume folder replaced by a link is not followed either.
  await run(['volume', 'create', 'sl2']);
  rmSync(join(d.dataRoot, 'volumes', 'sl2'), { recursive: true });
  symlinkSync(outside, join(d.dataRoot, 'volumes', 'sl2'));
  assert.match(await fails(['volume', 'rm', 'sl2']), /not a folder of the volumes folder/);
  assert.equal(readFileSync(join(outside, 'precious'), 'utf8'), 'keep\n');
  rmSync(join(d.dataRoot, 'volumes', 'sl2'));
});
