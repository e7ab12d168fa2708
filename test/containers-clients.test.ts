// Containers as client libraries and the CLI use them, checked against dockerd's behaviour (issue
// 17, Containers): --group-add, --ulimit, -e VAR unset in the client, --entrypoint '', privileged
// devices, host and container:X hostnames, legacy links, prune and df sizes, ps filters, commit
// comments, inspect's GraphDriver.Data and Config.Hostname, docker cp of the container's own
// files, explicit --dns. Real CLI, runc, overlay and a bridge of this test's own.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { apiRequest, docker, type DockerOptions, makeTempDir, type RunningDaemon, startDaemon } from './helpers/daemon.js';
import { importBusybox } from './helpers/busybox.js';
import { assertSubnetsFree, deleteLink, freePort, makeBridge, stopNetworkDaemon } from './helpers/network.js';
import { listHostDevices } from '../plugins/exec-runc/host-devices.js';

const BRIDGE = 'bt-ccl';
let d: RunningDaemon;
let work: string;
let tar: string;

before(async () => {
  assertSubnetsFree(['10.123.93.']);
  makeBridge(BRIDGE, '10.123.93.1/24');
  work = makeTempDir('berth-clients-');
  d = await startDaemon({ args: ['--bridge', BRIDGE] });
  tar = await importBusybox(d.socket, work, { files: { 'etc/group': 'root:x:0:\naudio:x:29:\n' } });
});

after(async () => {
  if (d) await stopNetworkDaemon(d);
  deleteLink(BRIDGE);
  rmSync(work, { recursive: true, force: true });
});

const run = (args: string[], opts: DockerOptions = {}) => docker(d.socket, args, { timeoutMs: 60_000, ...opts });
const inspect = async (name: string) => JSON.parse((await run(['inspect', name])).stdout)[0];
const ids = async (filter: string) => (await run(['ps', '-a', '--format', '{{.Names}}', '--filter', filter])).stdout.trim().split('\n').filter(Boolean).sort();

test('--group-add by name (the image\'s /etc/group) and by number reaches the process and its execs; an unknown name is refused', async () => {
  const r = await run(['run', '--rm', '--group-add', 'audio', '--group-add', '4242', 'busybox', 'id', '-G']);
  assert.deepEqual(r.stdout.trim().split(' ').sort(), ['0', '29', '4242']);
  await run(['run', '-d', '--name', 'ga', '--group-add', 'audio', 'busybox', 'sleep', '60']);
  assert.deepEqual((await run(['exec', 'ga', 'id', '-G'])).stdout.trim().split(' ').sort(), ['0', '29']);
  const bad = await run(['run', '--rm', '--group-add', 'nosuch', 'busybox', 'true'], { expectCode: 'failure' });
  assert.match(bad.stderr, /Unable to find group nosuch/);
  await run(['rm', '-f', 'ga']);
});

test('--ulimit reaches the runtime: soft and hard limits as given', async () => {
  const r = await run(['run', '--rm', '--ulimit', 'nofile=1024:2048', '--ulimit', 'nproc=300', 'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn; ulimit -u']);
  assert.equal(r.stdout, '1024\n2048\n300\n');
});

test('-e VAR with VAR unset in the client: start and exec run, the variable is not set (dockerd drops it)', async () => {
  const env = await run(['run', '--rm', '-e', 'BERTH_TEST_UNSET_VAR', '-e', 'A=1', 'busybox', 'busybox', 'env']);
  assert.match(env.stdout, /^A=1$/m);
  assert.doesNotMatch(env.stdout, /BERTH_TEST_UNSET_VAR/);
  assert.match(env.stdout, /^HOSTNAME=[0-9a-f]{12}$/m);
  await run(['run', '-d', '--name', 'envc', '-e', 'BERTH_TEST_UNSET_VAR', 'busybox', 'sleep', '60']);
  const exec = await run(['exec', '-e', 'BERTH_TEST_UNSET_VAR2', '-e', 'B=2', 'envc', 'busybox', 'env']);
  assert.match(exec.stdout, /^B=2$/m);
  assert.doesNotMatch(exec.stdout, /BERTH_TEST_UNSET_VAR/);
  await run(['rm', '-f', 'envc']);
});

test('--entrypoint \'\' clears the image\'s entrypoint (the API\'s Entrypoint [""])', async () => {
  await run(['import', '-c', 'ENTRYPOINT ["echo", "from-entrypoint"]', '-c', 'CMD ["x"]', tar, 'ep:latest']);
  assert.equal((await run(['run', '--rm', 'ep'])).stdout, 'from-entrypoint x\n');
  assert.equal((await run(['run', '--rm', '--entrypoint', '', 'ep', 'echo', 'plain'])).stdout, 'plain\n');
  const created = await apiRequest(d.socket, 'POST', '/containers/create', { Image: 'ep', Entrypoint: [''], Cmd: ['echo', 'api'] });
  assert.equal(created.status, 201, created.body);
  const c = await inspect(created.json().Id);
  assert.equal(c.Path, 'echo');
  assert.deepEqual(c.Args, ['api']);
  assert.equal(c.Config.Entrypoint, null);
  // As dockerd: [""] does not bring the image's Cmd back, so with no Cmd there is nothing to run.
  const none = await apiRequest(d.socket, 'POST', '/containers/create', { Image: 'ep', Entrypoint: [''] });
  assert.equal(none.status, 400);
  assert.equal(none.json().message, 'no command specified');
});

test('--privileged gives the host\'s device nodes', async () => {
  const host = await listHostDevices();
  const r = await run(['run', '--rm', '--privileged', 'busybox', 'sh', '-c', '[ -c /dev/loop-control ] && [ -c /dev/tty0 ] && echo yes; ls /dev']);
  assert.match(r.stdout, /^yes$/m);
  const names = r.stdout.trim().split('\n').slice(1);
  assert.ok(names.length > 14 && host.length > 14, `${names.length} entries in /dev for ${host.length} host devices`);
});

test('--network host: the host\'s hostname; --network container:X: X\'s; Config.Hostname as dockerd fills it', async () => {
  assert.equal((await run(['run', '--rm', '--network', 'host', 'busybox', 'sh', '-c', 'cat /etc/hostname; busybox hostname'])).stdout, `${hostname()}\n${hostname()}\n`);
  await run(['create', '--name', 'hosth', '--network', 'host', 'busybox', 'true']);
  assert.equal((await inspect('hosth')).Config.Hostname, hostname());
  const id = (await run(['run', '-d', '--name', 'hx', '-h', 'given-name', 'busybox', 'sleep', '60'])).stdout.trim();
  assert.equal((await inspect('hx')).Config.Hostname, 'given-name');
  assert.equal((await run(['run', '--rm', '--network', 'container:hx', 'busybox', 'sh', '-c', 'busybox hostname; echo $HOSTNAME'])).stdout, 'given-name\ngiven-name\n');
  const plain = (await run(['create', 'busybox', 'true'])).stdout.trim();
  assert.equal((await inspect(plain)).Config.Hostname, plain.slice(0, 12));
  assert.ok(id);
  await run(['rm', '-f', 'hx', 'hosth', plain]);
});

test('legacy links: ALIAS_* variables and hosts entry as dockerd writes them, HostConfig.Links, docker rm --link', async () => {
  await run(['run', '-d', '--name', 'db', '-e', 'SECRET=s3', '-e', 'PATH=/bin', '--expose', '5432', '--expose', '5433', '--expose', '53/udp', 'busybox', 'sleep', '60']);
  const ip = (await inspect('db')).NetworkSettings.Networks.bridge.IPAddress;
  assert.match(ip, /^10\.123\.93\./);
  const env = (await run(['run', '--rm', '--name', 'web', '--link', 'db:my-db', 'busybox', 'busybox', 'env'])).stdout.split('\n').filter((l) => l.startsWith('MY_DB_')).sort();
  assert.deepEqual(env, [
    'MY_DB_ENV_SECRET=s3',
    'MY_DB_NAME=/web/my-db',
    `MY_DB_PORT=tcp://${ip}:5432`,
    `MY_DB_PORT_5432_TCP=tcp://${ip}:5432`,
    `MY_DB_PORT_5432_TCP_ADDR=${ip}`,
    `MY_DB_PORT_5432_TCP_END=tcp://${ip}:5433`,
    'MY_DB_PORT_5432_TCP_PORT=5432',
    'MY_DB_PORT_5432_TCP_PORT_END=5433',
    'MY_DB_PORT_5432_TCP_PORT_START=5432',
    'MY_DB_PORT_5432_TCP_PROTO=tcp',
    `MY_DB_PORT_5432_TCP_START=tcp://${ip}:5432`,
    `MY_DB_PORT_5433_TCP=tcp://${ip}:5433`,
    `MY_DB_PORT_5433_TCP_ADDR=${ip}`,
    'MY_DB_PORT_5433_TCP_PORT=5433',
    'MY_DB_PORT_5433_TCP_PROTO=tcp',
    `MY_DB_PORT_53_UDP=udp://${ip}:53`,
    `MY_DB_PORT_53_UDP_ADDR=${ip}`,
    'MY_DB_PORT_53_UDP_PORT=53',
    'MY_DB_PORT_53_UDP_PROTO=udp',
  ].sort());
  const dbId = (await inspect('db')).Id as string;
  assert.match((await run(['run', '--rm', '--link', 'db:al', 'busybox', 'cat', '/etc/hosts'])).stdout, new RegExp(`^${ip.replace(/\./g, '\\.')}\\tal ${dbId.slice(0, 12)} db$`, 'm'));
  const bad = await run(['create', '--link', 'nosuch:x', 'busybox', 'true'], { expectCode: 'failure' });
  assert.match(bad.stderr, /could not get container for nosuch/);

  await run(['create', '--name', 'p2', '--link', 'db:al1', '--link', 'db:al2', 'busybox', 'sleep', '60']);
  assert.deepEqual((await inspect('p2')).HostConfig.Links, ['/db:/p2/al1', '/db:/p2/al2']);
  await run(['rm', '--link', 'p2/al1']);
  assert.deepEqual((await inspect('p2')).HostConfig.Links, ['/db:/p2/al2']);
  const del = await apiRequest(d.socket, 'DELETE', '/containers/p2/al2?link=1');
  assert.equal(del.status, 204, del.body);
  assert.equal((await inspect('p2')).HostConfig.Links, null);
  assert.equal((await apiRequest(d.socket, 'DELETE', '/containers/p2/al2?link=1')).status, 404);
  await run(['rm', '-f', 'db', 'p2']);
});

test('container prune reports the space of the removed read-write layers', async () => {
  await run(['run', '--name', 'big', 'busybox', 'busybox', 'dd', 'if=/dev/zero', 'of=/big', 'bs=1024', 'count=200']);
  const id = (await inspect('big')).Id;
  const pruned = (await apiRequest(d.socket, 'POST', '/containers/prune')).json();
  assert.ok(pruned.ContainersDeleted.includes(id));
  assert.ok(pruned.SpaceReclaimed >= 200 * 1024, `reclaimed ${pruned.SpaceReclaimed}`);
});

test('system df: containers with their sizes, images with the containers made from them (ACTIVE)', async () => {
  await run(['run', '-d', '--name', 'dfc', 'busybox', 'sh', '-c', 'busybox dd if=/dev/zero of=/mid bs=1024 count=50 2>/dev/null; sleep 60']);
  await run(['exec', 'dfc', 'busybox', 'dd', 'if=/dev/zero', 'of=/mid2', 'bs=1024', 'count=50']);
  const df = (await apiRequest(d.socket, 'GET', '/system/df')).json();
  const busybox = df.Images.find((i: { RepoTags: string[] }) => i.RepoTags?.includes('busybox:latest'));
  assert.equal(busybox.Containers, 1);
  const row = df.Containers.find((c: { Names: string[] }) => c.Names.includes('/dfc'));
  assert.ok(row.SizeRw >= 50 * 1024 && row.SizeRootFs > row.SizeRw, JSON.stringify(row));
  assert.match((await run(['system', 'df'])).stdout, /^Images\s+\d+\s+1\s/m, 'the image counts as active');
  await run(['rm', '-f', 'dfc']);
});

test('ps --filter expose= (ports exposed or published, ranges)', async () => {
  await run(['run', '-d', '--name', 'ex', '--expose', '7000', 'busybox', 'sleep', '60']);
  assert.deepEqual(await ids('expose=7000'), ['ex']);
  assert.deepEqual(await ids('expose=6990-7010/tcp'), ['ex']);
  assert.deepEqual(await ids('expose=7000/udp'), []);
  const bad = await run(['ps', '--filter', 'expose=1:2'], { expectCode: 'failure' });
  assert.match(bad.stderr, /filter for 'expose' should not contain ':': 1:2/);
  await run(['rm', '-f', 'ex']);
});

test('ps --filter volume= (a mount\'s destination or source)', async () => {
  const dir = join(work, 'vol');
  mkdirSync(dir, { recursive: true });
  await run(['run', '-d', '--name', 'vo', '-v', `${dir}:/data`, 'busybox', 'sleep', '60']);
  await run(['run', '-d', '--name', 'novol', 'busybox', 'sleep', '60']);
  assert.deepEqual(await ids('volume=/data'), ['vo']);
  assert.deepEqual(await ids(`volume=${dir}`), ['vo']);
  assert.deepEqual(await ids('volume=/elsewhere'), []);
  await run(['rm', '-f', 'vo', 'novol']);
});

test('ps --filter publish= matches the published host port, and the container port', async () => {
  const port = await freePort();
  await run(['run', '-d', '--name', 'pu', '-p', `127.0.0.1:${port}:8080`, 'busybox', 'sleep', '60']);
  assert.deepEqual(await ids(`publish=${port}`), ['pu']);
  assert.deepEqual(await ids(`publish=${port}/tcp`), ['pu']);
  assert.deepEqual(await ids('publish=8080/tcp'), ['pu']);
  assert.deepEqual(await ids('publish=9999'), []);
  await run(['rm', '-f', 'pu']);
});

test('commit -m sets the image Comment', async () => {
  await run(['run', '--name', 'cm', 'busybox', 'sh', '-c', 'echo x > /marker']);
  await run(['commit', '-m', 'the message', 'cm', 'committed:1']);
  assert.equal((await run(['image', 'inspect', '-f', '{{.Comment}}', 'committed:1'])).stdout, 'the message\n');
  await run(['rm', '-f', 'cm']);
});

test('inspect shows GraphDriver.Data: overlay\'s LowerDir, UpperDir, MergedDir, WorkDir', async () => {
  await run(['run', '-d', '--name', 'gd', 'busybox', 'sleep', '60']);
  const c = await inspect('gd');
  assert.equal(c.GraphDriver.Name, 'overlay');
  const data = c.GraphDriver.Data;
  assert.ok(data, 'GraphDriver.Data is filled');
  for (const k of ['LowerDir', 'UpperDir', 'MergedDir', 'WorkDir']) assert.ok(typeof data[k] === 'string' && data[k].startsWith(d.dataRoot), `${k}: ${data[k]}`);
  assert.equal(readFileSync(join(data.LowerDir.split(':')[0], 'etc/group'), 'utf8'), 'root:x:0:\naudio:x:29:\n');
  await run(['exec', 'gd', 'sh', '-c', 'echo x > /marker']);
  assert.equal(readFileSync(join(data.UpperDir, 'marker'), 'utf8'), 'x\n');
  assert.equal(readFileSync(join(data.MergedDir, 'marker'), 'utf8'), 'x\n');
  await run(['rm', '-f', 'gd']);
});

test('docker cp reads and writes the container\'s own /etc/hostname, /etc/hosts and /etc/resolv.conf', async () => {
  await run(['run', '-d', '--name', 'cpc', '-h', 'cp-host', '--dns', '10.123.93.53', 'busybox', 'sleep', '60']);
  const out = join(work, 'cp-out');
  mkdirSync(out, { recursive: true });
  await run(['cp', 'cpc:/etc/hostname', join(out, 'hostname')]);
  assert.equal(readFileSync(join(out, 'hostname'), 'utf8'), 'cp-host\n');
  await run(['cp', 'cpc:/etc/hosts', join(out, 'hosts')]);
  assert.match(readFileSync(join(out, 'hosts'), 'utf8'), /\tcp-host$/m);
  await run(['cp', 'cpc:/etc/resolv.conf', join(out, 'resolv.conf')]);
  assert.match(readFileSync(join(out, 'resolv.conf'), 'utf8'), /^nameserver 10\.123\.93\.53$/m);
  // Written into the file the container's bind mount shows (not over it: that would detach the mount).
  writeFileSync(join(out, 'new-hostname'), 'renamed\n');
  await run(['cp', join(out, 'new-hostname'), 'cpc:/etc/hostname']);
  assert.equal((await run(['exec', 'cpc', 'cat', '/etc/hostname'])).stdout, 'renamed\n');
  assert.equal(readFileSync((await inspect('cpc')).HostnamePath, 'utf8'), 'renamed\n', 'the bound file itself');
  writeFileSync(join(out, 'hosts'), '10.123.93.99\tadded\n');
  await run(['cp', join(out, 'hosts'), 'cpc:/etc/']);
  assert.equal((await run(['exec', 'cpc', 'cat', '/etc/hosts'])).stdout, '10.123.93.99\tadded\n');
  assert.equal(readFileSync((await inspect('cpc')).HostsPath, 'utf8'), '10.123.93.99\tadded\n', 'the bound file itself');
  await run(['rm', '-f', 'cpc']);
});

test('--dns 127.0.0.53 is written as given (only the host\'s own loopback resolvers are dropped)', async () => {
  const r = await run(['run', '--rm', '--dns', '127.0.0.53', 'busybox', 'cat', '/etc/resolv.conf']);
  assert.match(r.stdout, /^nameserver 127\.0\.0\.53$/m);
  assert.doesNotMatch(r.stdout, /8\.8\.8\.8/);
});
