// User-defined networks with the real CLI: create/ls/inspect/rm/prune, containers resolving each
// other by name and alias (also those started later), connect/disconnect of a running container,
// --ip, isolation between networks. Subnets of this test's own; nothing left when it ends.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { docker, type DockerOptions, makeTempDir, type RunningDaemon, startDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';
import { assertSubnetsFree, deleteLink, iptablesState, links, makeBridge, scrubDaemon } from './helpers/network.js';
import { poll } from './helpers/poll.js';

const BRIDGE = 'bt-nusr';
let d: RunningDaemon;
let work: string;
let rulesBefore: string;
let linksBefore: string[];
let userBridges: string[] = [];

before(async () => {
  assertSubnetsFree(['10.123.81.', '10.123.82.', '10.123.83.', '10.123.84.', '10.123.89.']);
  rulesBefore = iptablesState();
  linksBefore = links();
  makeBridge(BRIDGE, '10.123.81.1/24');
  work = makeTempDir('berth-netusr-');
  d = await startDaemon({ args: ['--bridge', BRIDGE] });
  await importBusybox(d.socket, work, { files: { 'www/index.html': 'hello from web\n' } });
});

after(async () => {
  if (d) {
    await removeAllContainers(d.socket);
    const nets = (await docker(d.socket, ['network', 'ls', '-q', '--filter', 'type=custom'], { expectCode: 'any' })).stdout.trim().split('\n').filter(Boolean);
    userBridges = nets.map((id) => `br-${id.slice(0, 12)}`);
    await d.cleanup();
    scrubDaemon(d.dataRoot, d.execRoot, userBridges);
  }
  deleteLink(BRIDGE);
  rmSync(work, { recursive: true, force: true });
});

const run = (args: string[], opts: DockerOptions = {}) => docker(d.socket, args, { timeoutMs: 60_000, ...opts });

/** true once fn holds (at most 50 tries, 0.1 s apart), false if it never does: the caller asserts. */
const until = async (fn: () => Promise<boolean>): Promise<boolean> => (await poll(fn, { maxTries: 50, intervalMs: 100 })) === true;

test('docker network create, ls, inspect; a subnet that overlaps another is refused', async () => {
  const r = await run(['network', 'create', '--subnet', '10.123.82.0/24', '--gateway', '10.123.82.254', '--ip-range', '10.123.82.128/25', '--label', 'k=v', 'tnet']);
  assert.match(r.stdout.trim(), /^[0-9a-f]{64}$/);
  const ls = (await run(['network', 'ls', '--format', '{{.Name}} {{.Driver}}'])).stdout.trim().split('\n').sort();
  assert.deepEqual(ls, ['bridge bridge', 'host host', 'none null', 'tnet bridge']);
  assert.equal((await run(['network', 'ls', '-q', '--filter', 'label=k=v'])).stdout.trim(), r.stdout.trim().slice(0, 12));
  const net = JSON.parse((await run(['network', 'inspect', 'tnet'])).stdout)[0];
  assert.deepEqual(net.IPAM.Config, [{ Subnet: '10.123.82.0/24', Gateway: '10.123.82.254', IPRange: '10.123.82.128/25' }]);
  assert.deepEqual(net.Labels, { k: 'v' });
  const clash = await run(['network', 'create', '--subnet', '10.123.82.0/25', 'other'], { expectCode: 'failure' });
  assert.match(clash.stderr, /Pool overlaps with other one on this address space/);
  const dup = await run(['network', 'create', '--subnet', '10.123.84.0/24', 'tnet'], { expectCode: 'failure' });
  assert.match(dup.stderr, /network with name tnet already exists/);
  const badOpt = await run(['network', 'create', '-o', 'com.docker.network.driver.mtu=big', '--subnet', '10.123.84.0/24', 'badopt'], { expectCode: 'failure' });
  assert.match(badOpt.stderr, /com\.docker\.network\.driver\.mtu/);
  assert.equal((await run(['network', 'rm', 'bridge'], { expectCode: 'failure' })).stderr.includes('bridge is a pre-defined network and cannot be removed'), true);
});

test('two containers on tnet ping each other by name and fetch from busybox httpd by name and alias', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  await run(['run', '-d', '--name', 'web', '--network', 'tnet', '--network-alias', 'www', 'busybox', 'busybox', 'httpd', '-f', '-p', '8080', '-h', '/www']);
  await run(['run', '-d', '--name', 'client', '--network', 'tnet', 'busybox', 'sleep', '300']);
  assert.deepEqual((await run(['ps', '--filter', 'network=tnet', '--format', '{{.Names}} {{.Networks}}'])).stdout.trim().split('\n').sort(), ['client tnet', 'web tnet']);
  assert.equal((await run(['ps', '-q', '--filter', 'network=bridge'])).stdout.trim(), '');
  const ip = JSON.parse((await run(['inspect', 'web'])).stdout)[0].NetworkSettings.Networks.tnet.IPAddress;
  assert.match(ip, /^10\.123\.82\.(1[2-9]\d|2[0-4]\d|25[0-3])$/, 'from the ip-range');
  const ping = await run(['exec', 'client', 'busybox', 'ping', '-c1', '-W2', 'web']);
  assert.match(ping.stdout, new RegExp(`PING web \\(${ip.replace(/\./g, '\\.')}\\)`));
  await run(['exec', 'web', 'busybox', 'ping', '-c1', '-W2', 'client']);
  assert.ok(await until(async () => (await run(['exec', 'client', 'busybox', 'wget', '-qO-', 'http://web:8080/'])).stdout === 'hello from web\n'));
  assert.equal((await run(['exec', 'client', 'busybox', 'wget', '-qO-', 'http://www:8080/'])).stdout, 'hello from web\n');
  // The embedded resolver on 127.0.0.11 answers for the network's names, as dockerd's does.
  assert.match((await run(['exec', 'client', 'cat', '/etc/resolv.conf'])).stdout, /^nameserver 127\.0\.0\.11$/m);
  const ns = await run(['exec', 'client', 'busybox', 'nslookup', 'www', '127.0.0.11']);
  assert.match(ns.stdout, new RegExp(`Address:\\s+${ip.replace(/\./g, '\\.')}$`, 'm'), ns.stdout + ns.stderr);
  // A container started later resolves too, and is resolved.
  const late = await run(['run', '--rm', '--name', 'late', '--network', 'tnet', '--ip', '10.123.82.200', 'busybox', 'busybox', 'wget', '-qO-', 'http://web:8080/']);
  assert.equal(late.stdout, 'hello from web\n', late.stderr);
  assert.equal((await run(['run', '--rm', '--network', 'tnet', 'busybox', 'sh', '-c', 'busybox ping -c1 -W2 client >/dev/null && echo ok'])).stdout, 'ok\n');
  // dockerd's network events as containers start and stop.
  const webId = JSON.parse((await run(['inspect', 'web'])).stdout)[0].Id;
  const events = await run(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'type=network',
    '--format', '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.container}}']);
  assert.match(events.stdout, new RegExp(`^connect tnet ${webId}$`, 'm'));
  assert.match(events.stdout, /^disconnect tnet [0-9a-f]{64}$/m, 'the --rm container left');
});

test('a container on another user network cannot reach them', async () => {
  await run(['network', 'create', '--subnet', '10.123.83.0/24', 'onet']);
  const ip = JSON.parse((await run(['inspect', 'web'])).stdout)[0].NetworkSettings.Networks.tnet.IPAddress;
  // (By address only: a name unknown on onet would go to the host's resolvers, off this machine.)
  // Exit 1 is grep -c's for no match: web is not in this container's /etc/hosts.
  const r = await run(['run', '--rm', '--network', 'onet', 'busybox', 'sh', '-c', `busybox ping -c1 -W1 ${ip} >/dev/null 2>&1; echo $?; grep -c web /etc/hosts`], { expectCode: 1 });
  assert.equal(r.stdout, '1\n0\n', r.stderr);
});

test('connect and disconnect a running container; a removed container releases its address', async () => {
  await run(['network', 'connect', '--alias', 'cli2', 'onet', 'client']);
  const nets = JSON.parse((await run(['inspect', 'client'])).stdout)[0].NetworkSettings.Networks;
  assert.deepEqual(Object.keys(nets).sort(), ['onet', 'tnet']);
  assert.match((await run(['exec', 'client', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth1'])).stdout, new RegExp(`inet ${nets.onet.IPAddress.replace(/\./g, '\\.')}/24`));
  assert.equal((await run(['run', '--rm', '--network', 'onet', 'busybox', 'sh', '-c', 'busybox ping -c1 -W2 cli2 >/dev/null && echo ok'])).stdout, 'ok\n');
  const inUse = await run(['network', 'rm', 'onet'], { expectCode: 'failure' });
  assert.match(inUse.stderr, /error while removing network: network onet id [0-9a-f]{64} has active endpoints/);
  // A renamed container is known to its peers by its new name at once.
  await run(['rename', 'client', 'client2']);
  await run(['exec', 'web', 'busybox', 'ping', '-c1', '-W2', 'client2']);
  await run(['rename', 'client2', 'client']);
  await run(['network', 'disconnect', 'onet', 'client']);
  assert.equal((await run(['exec', 'client', 'busybox', 'ip', '-o', 'link'])).stdout.includes('eth1'), false);
  // The address of a removed container goes back to the pool: the next one gets it.
  const first = (await run(['run', '--rm', '--network', 'onet', 'busybox', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth0'])).stdout;
  const again = (await run(['run', '--rm', '--network', 'onet', 'busybox', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth0'])).stdout;
  assert.equal(/inet (\S+)/.exec(again)?.[1], /inet (\S+)/.exec(first)?.[1]);
});

test('an --internal network: containers talk among themselves, have no default route and cannot leave it', async () => {
  await run(['network', 'create', '--internal', '--subnet', '10.123.89.0/24', 'inet']);
  await run(['run', '-d', '--name', 'in1', '--network', 'inet', 'busybox', 'sleep', '300']);
  const r = await run(['run', '--rm', '--network', 'inet', 'busybox', 'sh', '-c', 'busybox ip route; busybox ping -c1 -W2 in1 >/dev/null && echo reached']);
  assert.doesNotMatch(r.stdout, /default/);
  assert.match(r.stdout, /reached/);
  assert.equal(JSON.parse((await run(['network', 'inspect', 'inet'])).stdout)[0].Internal, true);
  const webIp = JSON.parse((await run(['inspect', 'web'])).stdout)[0].NetworkSettings.Networks.tnet.IPAddress;
  // Even with a route there, nothing crosses into or out of the internal network's bridge.
  const out = await run(['run', '--rm', '--network', 'inet', '--cap-add', 'NET_ADMIN', 'busybox', 'sh', '-c', `busybox ip route add default via 10.123.89.1; busybox ping -c1 -W1 ${webIp} >/dev/null 2>&1; echo $?`]);
  assert.equal(out.stdout, '1\n', out.stderr);
  await run(['rm', '-f', 'in1']);
  await run(['network', 'rm', 'inet']);
});

test('docker network rm and prune remove the bridge and the rules of the network', async () => {
  const id = JSON.parse((await run(['network', 'inspect', 'onet'])).stdout)[0].Id;
  assert.ok(links().includes(`br-${id.slice(0, 12)}`));
  await run(['network', 'rm', 'onet']);
  assert.equal(links().includes(`br-${id.slice(0, 12)}`), false);
  assert.doesNotMatch(iptablesState(), /10\.123\.83\./);
  // A stopped container does not hold its network (dockerd): rm works, its start then fails.
  await run(['network', 'create', '--subnet', '10.123.84.0/24', 'gone']);
  await run(['create', '--name', 'orphan', '--network', 'gone', 'busybox', 'true']);
  await run(['network', 'rm', 'gone']);
  assert.match((await run(['start', 'orphan'], { expectCode: 'failure' })).stderr, /network gone not found/);
  await run(['rm', '-f', 'orphan']);
  await run(['network', 'create', '--subnet', '10.123.84.0/24', 'spare']);
  const prune = await run(['network', 'prune', '-f']);
  assert.match(prune.stdout, /spare/);
  assert.doesNotMatch(prune.stdout, /tnet/, 'in use: kept');
});

test('containers, networks and the daemon gone: no rule, interface or namespace left', async () => {
  await run(['rm', '-f', 'web', 'client']);
  await run(['network', 'rm', 'tnet']);
  assert.equal(await d.stop(), 0);
  assert.equal(iptablesState(), rulesBefore);
  assert.deepEqual(links().filter((l) => !linksBefore.includes(l)), [BRIDGE]);
});
