// Networks as client libraries drive them (docker-py, dockerode: raw API bodies, back to back),
// checked against dockerd's behaviour: names with a space in the path, dual-stack networks (IPv6
// addresses, routes, AAAA answers, ip6tables rules made and removed), explicit pools checked only
// against other networks, MAC addresses from endpoint configs, the network fields dockerd stores
// (Scope, Attachable, Ingress, ConfigOnly, ConfigFrom, Options, Labels). Bridges "cn*", subnets
// 10.123.240-247.0/24 and fd00:b24::/64, fd00:b25::/64 of its own; traffic only between its containers.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { apiRequest, docker, type DockerOptions, makeTempDir, type RunningDaemon, startDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';
import { assertSubnetsFree, deleteLink, ip6tablesState, makeBridge, scrubDaemon } from './helpers/network.js';

const BRIDGE = 'cn-main';
const ROUTED = 'cn-route';
const MINE = ['cn-space', 'cn-route', 'cn-ovl', 'cn-cfg', 'cn-mac', 'cn-mac2', 'cn-v6', 'cn-v6b', 'cn-attr'];
let d: RunningDaemon;
let work: string;

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const tagOf = (dataRoot: string) => createHash('sha256').update(dataRoot).digest('hex').slice(0, 12);

before(async () => {
  assertSubnetsFree(['10.123.240.', '10.123.241.', '10.123.242.', '10.123.243.', '10.123.244.', '10.123.245.', '10.123.246.', '10.123.247.']);
  const routes6 = sh('ip', ['-6', 'route', 'show', 'table', 'all']);
  for (const p of ['fd00:b24:', 'fd00:b25:']) if (routes6.includes(p)) throw new Error(`${p} is routed on this host already`);
  makeBridge(BRIDGE, '10.123.240.1/24');
  work = makeTempDir('berth-netcli-');
  d = await startDaemon({ args: ['--bridge', BRIDGE] });
  await importBusybox(d.socket, work);
});

after(async () => {
  if (d) {
    await removeAllContainers(d.socket);
    await d.cleanup();
    scrubDaemon(d.dataRoot, d.execRoot, MINE);
  }
  for (const b of [BRIDGE, ROUTED]) deleteLink(b);
  rmSync(work, { recursive: true, force: true });
});

const run = (args: string[], opts: DockerOptions = {}) => docker(d.socket, args, { timeoutMs: 60_000, ...opts });
const api = (method: string, path: string, body?: object) => apiRequest(d.socket, method, path, body);
const bridgeOpt = (name: string) => ({ 'com.docker.network.bridge.name': name });

test('a network name with a space, percent-encoded in the path, as dockerd accepts it; encoded slashes and dot segments stay refused', async () => {
  const made = await api('POST', '/v1.41/networks/create', { Name: 'test 01', Options: bridgeOpt('cn-space'), IPAM: { Config: [{ Subnet: '10.123.241.0/24' }] } });
  assert.equal(made.status, 201, made.body);
  const got = await api('GET', '/v1.41/networks/test%2001');
  assert.equal(got.status, 200, got.body);
  assert.equal(got.json().Name, 'test 01');
  assert.equal((await run(['network', 'inspect', '--format', '{{.Name}}', 'test 01'])).stdout.trim(), 'test 01');
  for (const bad of ['/v1.41/networks/test%2001%2F..%2Fx', '/v1.41/networks/test%2001/%2e%2e/x']) {
    const r = await api('GET', bad);
    assert.equal(r.status, 400, `${bad}: ${r.body}`);
  }
  assert.equal((await api('DELETE', '/v1.41/networks/test%2001')).status, 204);
  assert.equal((await api('GET', '/v1.41/networks/test%2001')).status, 404);
});

test('an explicit subnet is checked against other networks only: a host route there does not refuse it', async () => {
  makeBridge(ROUTED, '10.123.242.1/24');
  try {
    const r = await api('POST', '/networks/create', { Name: 'routed', Options: bridgeOpt('cn-ovl'), IPAM: { Config: [{ Subnet: '10.123.242.0/24', Gateway: '10.123.242.254' }] } });
    assert.equal(r.status, 201, r.body);
    const clash = await api('POST', '/networks/create', { Name: 'clash', IPAM: { Config: [{ Subnet: '10.123.242.128/25' }] } });
    assert.equal(clash.status, 403);
    assert.equal(clash.json().message, 'Pool overlaps with other one on this address space');
    await run(['network', 'rm', 'routed']);
  } finally {
    deleteLink(ROUTED);
  }
});

test('config-only and config-from networks: the pool, options and labels come from the configuration network, which holds no addresses', async () => {
  const co = await api('POST', '/networks/create', {
    Name: 'cfg', ConfigOnly: true, Options: bridgeOpt('cn-cfg'), Labels: { from: 'cfg' }, IPAM: { Config: [{ Subnet: '10.123.244.0/24', Gateway: '10.123.244.254' }] },
  });
  assert.equal(co.status, 201, co.body);
  const cfg = (await api('GET', '/networks/cfg')).json();
  assert.equal(cfg.Driver, 'null');
  assert.equal(cfg.Scope, 'local');
  assert.equal(cfg.ConfigOnly, true);
  assert.deepEqual(cfg.IPAM.Config, [{ Subnet: '10.123.244.0/24', Gateway: '10.123.244.254' }]);
  assert.ok(!sh('ip', ['-o', 'link']).includes('cn-cfg'), 'a configuration network makes no bridge');

  const withOwn = await api('POST', '/networks/create', { Name: 'own', ConfigFrom: { Network: 'cfg' }, Labels: { a: 'b' } });
  assert.equal(withOwn.status, 403);
  assert.equal(withOwn.json().message, 'user specified configurations are not supported if the network depends on a configuration network');
  const missing = await api('POST', '/networks/create', { Name: 'nope', ConfigFrom: { Network: 'no-such' } });
  assert.equal(missing.status, 404);
  assert.equal(missing.json().message, 'configuration network "no-such" does not exist');
  const operator = await api('POST', '/networks/create', { Name: 'cfg2', ConfigOnly: true, Attachable: true });
  assert.equal(operator.status, 403);
  assert.match(operator.json().message, /^configuration network can only contain network specific fields/);

  const cf = await api('POST', '/networks/create', { Name: 'fromcfg', ConfigFrom: { Network: 'cfg' } });
  assert.equal(cf.status, 201, cf.body);
  const net = (await api('GET', '/networks/fromcfg')).json();
  assert.deepEqual(net.ConfigFrom, { Network: 'cfg' });
  assert.equal(net.ConfigOnly, false);
  assert.equal(net.Driver, 'bridge');
  assert.deepEqual(net.IPAM.Config, [{ Subnet: '10.123.244.0/24', Gateway: '10.123.244.254' }]);
  assert.deepEqual(net.Labels, { from: 'cfg' });
  assert.equal(net.Options['com.docker.network.bridge.name'], 'cn-cfg');
  assert.match(sh('ip', ['-o', '-4', 'addr', 'show', 'dev', 'cn-cfg']), /inet 10\.123\.244\.254\/24/);

  const onCfg = await run(['run', '--rm', '--network', 'cfg', 'busybox', 'true'], { expectCode: 'failure' });
  assert.match(onCfg.stderr, /cannot create endpoint on configuration-only network/);
  const inUse = await run(['network', 'rm', 'cfg'], { expectCode: 'failure' });
  assert.match(inUse.stderr, /configuration network "cfg" is in use/);
  await run(['network', 'rm', 'fromcfg']);
  await run(['network', 'rm', 'cfg']);
});

test('Scope, Attachable, Options and Labels are stored and echoed by inspect and list; dockerd refuses what a local daemon cannot make', async () => {
  const r = await api('POST', '/networks/create', {
    Name: 'attrs', Scope: 'local', Attachable: true, Options: { ...bridgeOpt('cn-attr'), 'com.docker.network.driver.mtu': '1400' }, Labels: { team: 'net' },
    IPAM: { Driver: 'default', Config: [{ Subnet: '10.123.247.0/24' }] },
  });
  assert.equal(r.status, 201, r.body);
  const shown = (await api('GET', '/networks/attrs')).json();
  const listed = (await api('GET', `/networks?filters=${encodeURIComponent('{"name":["attrs"]}')}`)).json()[0];
  for (const n of [shown, listed]) {
    assert.equal(n.Scope, 'local');
    assert.equal(n.Attachable, true);
    assert.equal(n.Ingress, false);
    assert.equal(n.ConfigOnly, false);
    assert.deepEqual(n.ConfigFrom, { Network: '' });
    assert.deepEqual(n.Options, { 'com.docker.network.bridge.name': 'cn-attr', 'com.docker.network.driver.mtu': '1400' });
    assert.deepEqual(n.Labels, { team: 'net' });
  }
  assert.match(readFileSync('/sys/class/net/cn-attr/mtu', 'utf8'), /^1400/);
  const refused: [object, number, string][] = [
    [{ Name: 'h2', Driver: 'host' }, 403, 'only one instance of "host" network is allowed'],
    [{ Name: 'n2', Driver: 'null' }, 403, 'only one instance of "null" network is allowed'],
    [{ Name: 'host' }, 403, 'operation is not permitted on predefined host network '],
    [{ Name: 'sw', Scope: 'swarm' }, 403, 'cannot create a swarm scoped network when swarm is not active'],
    [{ Name: 'ing', Ingress: true }, 403, 'Ingress network can only be global scope network'],
  ];
  for (const [body, status, message] of refused) {
    const res = await api('POST', '/networks/create', body);
    assert.deepEqual([res.status, res.json().message], [status, message], JSON.stringify(body));
  }
  const cli = await run(['network', 'create', '-d', 'host', 'h3'], { expectCode: 'failure' });
  assert.match(cli.stderr, /only one instance of "host" network is allowed/);
  await run(['network', 'rm', 'attrs']);
});

test('MacAddress in the endpoint config of create and connect, and the container-wide one, are applied; invalid ones refused', async () => {
  await run(['network', 'create', '-o', 'com.docker.network.bridge.name=cn-mac', '--subnet', '10.123.245.0/24', 'macnet']);
  await run(['network', 'create', '-o', 'com.docker.network.bridge.name=cn-mac2', '--subnet', '10.123.246.0/24', 'macnet2']);
  const mac = async (name: string, dev: string) => (await run(['exec', name, 'cat', `/sys/class/net/${dev}/address`])).stdout.trim();
  // docker-py: networking_config={'macnet': EndpointConfig(mac_address=...)}
  const c1 = await api('POST', '/containers/create?name=mac1', {
    Image: 'busybox', Cmd: ['sleep', '300'], HostConfig: { NetworkMode: 'macnet' },
    NetworkingConfig: { EndpointsConfig: { macnet: { MacAddress: '02:42:0a:7b:f5:99' } } },
  });
  assert.equal(c1.status, 201, c1.body);
  // docker-py's mac_address= (the container-wide field of API < 1.44)
  const c2 = await api('POST', '/v1.41/containers/create?name=mac2', { Image: 'busybox', Cmd: ['sleep', '300'], MacAddress: '02:42:0A:7B:F5:98', HostConfig: { NetworkMode: 'macnet' } });
  assert.equal(c2.status, 201, c2.body);
  await run(['start', 'mac1', 'mac2']);
  assert.equal(await mac('mac1', 'eth0'), '02:42:0a:7b:f5:99');
  assert.equal(await mac('mac2', 'eth0'), '02:42:0a:7b:f5:98');
  const inspected = JSON.parse((await run(['inspect', 'mac1'])).stdout)[0].NetworkSettings;
  assert.equal(inspected.Networks.macnet.MacAddress, '02:42:0a:7b:f5:99');
  assert.equal(inspected.MacAddress, '02:42:0a:7b:f5:99');
  // network connect with an EndpointConfig (docker-py connect_container_to_network(mac_address=...))
  const conn = await api('POST', '/networks/macnet2/connect', { Container: 'mac1', EndpointConfig: { MacAddress: '02:42:0a:7b:f6:97' } });
  assert.equal(conn.status, 200, conn.body);
  assert.equal(await mac('mac1', 'eth1'), '02:42:0a:7b:f6:97');
  const net = (await api('GET', '/networks/macnet2')).json();
  assert.equal(Object.values(net.Containers as Record<string, { MacAddress: string }>)[0].MacAddress, '02:42:0a:7b:f6:97');
  // The container-wide field on the default network too (this CLI sends --mac-address only at API 1.44).
  const c3 = await api('POST', '/v1.41/containers/create?name=mac3', { Image: 'busybox', Cmd: ['sleep', '300'], MacAddress: '02:42:0a:7b:f0:96' });
  assert.equal(c3.status, 201, c3.body);
  await run(['start', 'mac3']);
  assert.equal(await mac('mac3', 'eth0'), '02:42:0a:7b:f0:96');

  const bad = await api('POST', '/containers/create?name=badmac', { Image: 'busybox', HostConfig: { NetworkMode: 'macnet' }, NetworkingConfig: { EndpointsConfig: { macnet: { MacAddress: 'zz:42:0a:7b:f5:99' } } } });
  assert.deepEqual([bad.status, bad.json().message], [400, 'invalid MAC address zz:42:0a:7b:f5:99']);
  const badConn = await api('POST', '/networks/macnet2/connect', { Container: 'mac2', EndpointConfig: { MacAddress: '02:42' } });
  assert.deepEqual([badConn.status, badConn.json().message], [400, 'invalid MAC address 02:42']);
  const hostMac = await api('POST', '/v1.41/containers/create?name=hostmac', { Image: 'busybox', MacAddress: '02:42:0a:7b:f5:95', HostConfig: { NetworkMode: 'host' } });
  assert.deepEqual([hostMac.status, hostMac.json().message], [400, 'conflicting options: mac-address and the network mode']);
  await run(['rm', '-f', 'mac1', 'mac2', 'mac3']);
  await run(['network', 'rm', 'macnet', 'macnet2']);
});

test('a dual-stack network: IPv6 on the bridge and in containers, peers reach each other by name over IPv6, its ip6tables rules go with it', async () => {
  const tag = tagOf(d.dataRoot);
  const mineV6 = () => ip6tablesState().split('\n').filter((l) => l.includes(`berth:${tag}`));
  const r = await run(['network', 'create', '--ipv6', '--subnet', '10.123.243.0/24', '--subnet', 'fd00:b24::/64', '-o', 'com.docker.network.bridge.name=cn-v6', 'v6net']);
  const id = r.stdout.trim();
  const net = JSON.parse((await run(['network', 'inspect', 'v6net'])).stdout)[0];
  assert.equal(net.EnableIPv6, true);
  assert.deepEqual(net.IPAM.Config, [{ Subnet: '10.123.243.0/24', Gateway: '10.123.243.1' }, { Subnet: 'fd00:b24::/64', Gateway: 'fd00:b24::1' }]);
  assert.match(sh('ip', ['-6', '-o', 'addr', 'show', 'dev', 'cn-v6']), /inet6 fd00:b24::1\/64/);
  const rules = mineV6();
  assert.ok(rules.some((l) => l.includes('fd00:b24::/64') && l.startsWith('-A BERTH-POSTROUTING')), rules.join('\n'));
  assert.ok(rules.some((l) => l.startsWith('-A BERTH-FORWARD -i cn-v6 -o cn-v6 ') && l.endsWith('-j ACCEPT')), rules.join('\n'));

  await run(['run', '-d', '--name', 'six1', '--network', 'v6net', 'busybox', 'sleep', '300']);
  await run(['run', '-d', '--name', 'six2', '--network', 'v6net', '--ip6', 'fd00:b24::66', 'busybox', 'sleep', '300']);
  const s1 = JSON.parse((await run(['inspect', 'six1'])).stdout)[0].NetworkSettings;
  assert.deepEqual([s1.Networks.v6net.GlobalIPv6Address, s1.Networks.v6net.GlobalIPv6PrefixLen, s1.Networks.v6net.IPv6Gateway], ['fd00:b24::2', 64, 'fd00:b24::1']);
  assert.deepEqual([s1.GlobalIPv6Address, s1.IPv6Gateway], ['fd00:b24::2', 'fd00:b24::1']);
  const s2 = JSON.parse((await run(['inspect', 'six2'])).stdout)[0].NetworkSettings.Networks.v6net;
  assert.equal(s2.GlobalIPv6Address, 'fd00:b24::66');
  assert.deepEqual(s2.IPAMConfig, { IPv6Address: 'fd00:b24::66' });
  const containers = Object.values(JSON.parse((await run(['network', 'inspect', 'v6net'])).stdout)[0].Containers as Record<string, { Name: string; IPv6Address: string }>);
  assert.deepEqual(containers.map((c) => `${c.Name} ${c.IPv6Address}`).sort(), ['six1 fd00:b24::2/64', 'six2 fd00:b24::66/64']);

  assert.match((await run(['exec', 'six1', 'busybox', 'ip', '-6', 'addr', 'show', 'eth0'])).stdout, /inet6 fd00:b24::2\/64/);
  assert.match((await run(['exec', 'six1', 'busybox', 'ip', '-6', 'route'])).stdout, /default via fd00:b24::1 dev eth0/);
  assert.match((await run(['exec', 'six1', 'cat', '/etc/hosts'])).stdout, /^fd00:b24::66\tsix2 /m);
  const ns = await run(['exec', 'six1', 'busybox', 'nslookup', '-type=aaaa', 'six2', '127.0.0.11']);
  assert.match(ns.stdout, /fd00:b24::66/, ns.stdout + ns.stderr);
  const ping = await run(['exec', 'six1', 'busybox', 'ping', '-6', '-c1', '-W2', 'six2']);
  assert.match(ping.stdout, /PING six2 \(fd00:b24::66\)/);
  assert.match(ping.stdout, /1 packets received/);
  await run(['exec', 'six2', 'busybox', 'ping', '-6', '-c1', '-W2', 'six1']);

  await run(['rm', '-f', 'six1', 'six2']);
  await run(['network', 'rm', 'v6net']);
  assert.deepEqual(mineV6(), [], 'no ip6tables rule of this daemon is left after network rm');
  assert.ok(!sh('ip', ['-o', 'link']).includes(`br-${id.slice(0, 12)}`) && !sh('ip', ['-o', 'link']).includes('cn-v6:'));
});

test('dual-stack refusals: a v6 subnet without --ipv6, --ipv6 without a v6 subnet, overlapping v6 pools', async () => {
  const noFlag = await api('POST', '/networks/create', { Name: 'x6', IPAM: { Config: [{ Subnet: 'fd00:b25::/64' }] } });
  assert.equal(noFlag.status, 400, noFlag.body);
  const noSubnet = await api('POST', '/networks/create', { Name: 'x6', EnableIPv6: true });
  assert.equal(noSubnet.status, 400, noSubnet.body);
  const bad = await api('POST', '/networks/create', { Name: 'x6', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd00:b25::1/64' }] } });
  assert.deepEqual([bad.status, bad.json().message], [400, 'invalid subnet fd00:b25::1/64 : it should be fd00:b25::/64']);
});

test('a stop without live-restore removes the ip6tables rules of dual-stack networks', async () => {
  const tag = tagOf(d.dataRoot);
  await run(['network', 'create', '--ipv6', '--subnet', '10.123.241.0/24', '--subnet', 'fd00:b25::/64', '-o', 'com.docker.network.bridge.name=cn-v6b', 'v6keep']);
  assert.ok(ip6tablesState().includes(`berth:${tag}`));
  await removeAllContainers(d.socket);
  assert.equal(await d.stop(), 0);
  assert.ok(!ip6tablesState().includes(`berth:${tag}`), 'the daemon left no ip6tables rule');
  assert.ok(!sh('ip', ['-o', 'link']).includes('cn-v6b:'));
});
