// The bridge driver with the real CLI: published ports (iptables DNAT in Berth's chains plus the
// userland proxy), the default bridge network, the modes none, host and container:<id>, the
// container's hosts and resolv.conf, and the daemon options refused at start. The daemon runs on
// a bridge and subnet of this test's own; everything it made is gone when the test ends.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { docker, type DockerOptions, makeTempDir, type RunningDaemon, startDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';
import { assertSubnetsFree, deleteLink, fetchWithin, freePort, iptablesState, links, makeBridge, portFree, scrubDaemon, stopNetworkDaemon } from './helpers/network.js';

const BRIDGE = 'bt-nbr';
let d: RunningDaemon;
let work: string;
let rulesBefore: string;
let linksBefore: string[];

before(async () => {
  assertSubnetsFree(['10.123.71.']);
  rulesBefore = iptablesState();
  linksBefore = links();
  makeBridge(BRIDGE, '10.123.71.1/24');
  work = makeTempDir('berth-netbr-');
  d = await startDaemon({ args: ['--bridge', BRIDGE] });
  await importBusybox(d.socket, work, { files: { 'www/index.html': 'hello from httpd\n' } });
});

after(async () => {
  if (d) await stopNetworkDaemon(d);
  deleteLink(BRIDGE);
  rmSync(work, { recursive: true, force: true });
});

const run = (args: string[], opts: DockerOptions = {}) => docker(d.socket, args, { timeoutMs: 60_000, ...opts });

test('-p 127.0.0.1:PORT:8080 serves busybox httpd to the host; docker port shows it; rm -f leaves no rule and frees the port', async () => {
  const port = await freePort();
  await run(['run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:8080`, 'busybox', 'busybox', 'httpd', '-f', '-p', '8080', '-h', '/www']);
  assert.equal(await fetchWithin(port), 'hello from httpd\n');
  assert.equal((await run(['port', 'web'])).stdout.trim(), `8080/tcp -> 127.0.0.1:${port}`);
  assert.equal((await run(['port', 'web', '8080'])).stdout.trim(), `127.0.0.1:${port}`);
  const ps = (await run(['ps', '--format', '{{.Ports}}', '--filter', 'name=web'])).stdout.trim();
  assert.equal(ps, `127.0.0.1:${port}->8080/tcp`);
  assert.equal((await run(['ps', '--format', '{{.Names}}', '--filter', 'publish=8080/tcp'])).stdout.trim(), 'web');
  assert.equal((await run(['ps', '-q', '--filter', 'publish=9090'])).stdout.trim(), '');
  assert.match(iptablesState(), new RegExp(`--dport ${port} .*DNAT`), 'DNAT rule in place while it runs');
  await run(['rm', '-f', 'web']);
  assert.doesNotMatch(iptablesState(), new RegExp(`\\b${port}\\b`));
  assert.equal(await portFree(port), true, 'the host port is free again');
});

test('a host port already taken is a clear error and leaves no rule behind', async () => {
  const holder = createServer();
  const port = await new Promise<number>((resolve) => holder.listen(0, '127.0.0.1', () => resolve((holder.address() as { port: number }).port)));
  try {
    const r = await run(['run', '-d', '--name', 'clash', '-p', `127.0.0.1:${port}:8080`, 'busybox', 'sleep', '30'], { expectCode: 'failure' });
    assert.match(r.stderr, new RegExp(`driver failed programming external connectivity on endpoint clash \\([0-9a-f]+\\): Bind for 127.0.0.1:${port} failed: port is already allocated`));
    assert.doesNotMatch(iptablesState(), new RegExp(`\\b${port}\\b`));
    const state = JSON.parse((await run(['inspect', 'clash'])).stdout)[0].State;
    assert.equal(state.Running, false);
  } finally {
    holder.close();
    await run(['rm', '-f', 'clash']);
  }
});

test('-P publishes exposed ports on free ports of the ephemeral range', async () => {
  await run(['run', '-d', '--name', 'pub', '-P', '--expose', '8080', 'busybox', 'busybox', 'httpd', '-f', '-p', '8080', '-h', '/www']);
  const mapping = (await run(['port', 'pub', '8080/tcp'])).stdout.trim().split('\n')[0];
  const m = /^0\.0\.0\.0:(\d+)$/.exec(mapping);
  assert.ok(m, mapping);
  const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  const port = Number(m[1]);
  assert.ok(port >= lo && port <= hi, `${port} in ${lo}-${hi}`);
  assert.equal(await fetchWithin(port), 'hello from httpd\n');
  await run(['rm', '-f', 'pub']);
  assert.equal(await portFree(port), true);
});

test('the default bridge network: eth0 with an address of its subnet, a default route, NetworkSettings in inspect', async () => {
  await run(['run', '-d', '--name', 'plain', 'busybox', 'sleep', '60']);
  const ns = JSON.parse((await run(['inspect', 'plain'])).stdout)[0].NetworkSettings;
  assert.match(ns.IPAddress, /^10\.123\.71\.\d+$/);
  assert.equal(ns.Gateway, '10.123.71.1');
  assert.equal(ns.IPPrefixLen, 24);
  assert.match(ns.MacAddress, /^02:42:0a:7b:47:[0-9a-f]{2}$/);
  assert.equal(ns.Networks.bridge.IPAddress, ns.IPAddress);
  const addr = (await run(['exec', 'plain', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth0'])).stdout;
  assert.match(addr, new RegExp(`inet ${ns.IPAddress.replace(/\./g, '\\.')}/24`));
  assert.match((await run(['exec', 'plain', 'busybox', 'ip', 'route'])).stdout, /default via 10\.123\.71\.1 dev eth0/);
  const net = JSON.parse((await run(['network', 'inspect', 'bridge'])).stdout)[0];
  assert.equal(net.IPAM.Config[0].Subnet, '10.123.71.0/24');
  assert.equal(net.Options['com.docker.network.bridge.name'], BRIDGE);
  assert.equal(net.Containers[JSON.parse((await run(['inspect', 'plain'])).stdout)[0].Id].IPv4Address, `${ns.IPAddress}/24`);
  // --network container:X shares X's interfaces.
  const shared = (await run(['run', '--rm', '--network', 'container:plain', 'busybox', 'busybox', 'ip', '-o', '-4', 'addr'])).stdout;
  assert.match(shared, new RegExp(`inet ${ns.IPAddress.replace(/\./g, '\\.')}/24`));
  await run(['rm', '-f', 'plain']);
});

test('--network none has only lo; --network host sees the host\'s interfaces', async () => {
  const none = await run(['run', '--rm', '--network', 'none', 'busybox', 'busybox', 'ip', '-o', 'link']);
  assert.deepEqual(none.stdout.trim().split('\n').map((l) => l.split(':')[1].trim()), ['lo']);
  const host = await run(['run', '--rm', '--network', 'host', 'busybox', 'busybox', 'ip', '-o', 'link']);
  const names = host.stdout.trim().split('\n').map((l) => l.split(':')[1].trim().split('@')[0]);
  assert.ok(names.includes(BRIDGE), names.join(' '));
});

test('/etc/hosts and /etc/resolv.conf as dockerd writes them: --hostname, --add-host, --dns, --dns-search, --dns-option', async () => {
  const r = await run(['run', '--rm', '--hostname', 'box1', '--add-host', 'db.example:10.123.71.250', '--dns', '10.123.71.53', '--dns-search', 'corp.example',
    '--dns-option', 'ndots:2', 'busybox', 'sh', '-c', 'cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; cat /etc/hostname']);
  const [hosts, resolv, hostname] = r.stdout.split('---\n');
  assert.match(hosts, /^127\.0\.0\.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n/);
  assert.match(hosts, /\n10\.123\.71\.250\tdb\.example\n/);
  assert.match(hosts, /\n10\.123\.71\.\d+\tbox1\n/);
  assert.equal(resolv, 'search corp.example\nnameserver 10.123.71.53\noptions ndots:2\n');
  assert.equal(hostname, 'box1\n');
  // Without options: the host's resolvers, minus loopback ones, else Google's as the fallback.
  const plain = (await run(['run', '--rm', 'busybox', 'cat', '/etc/resolv.conf'])).stdout;
  const hostServers = readFileSync('/etc/resolv.conf', 'utf8').split('\n').filter((l) => /^nameserver\s/.test(l)).map((l) => l.split(/\s+/)[1]).filter((s) => !/^(127\.|::1$)/.test(s));
  const expected = hostServers.length ? hostServers : ['8.8.8.8', '8.8.4.4'];
  assert.deepEqual(plain.split('\n').filter((l) => l.startsWith('nameserver')).map((l) => l.split(' ')[1]), expected);
});

test('contradictory bridge options are refused at start with dockerd\'s reasons', async () => {
  const cases: [string[], RegExp][] = [
    [['--bridge', BRIDGE, '--bip', '10.123.77.1/24'], /You specified -b & --bip, mutually exclusive options. Please specify only one/],
    [['--iptables=false', '--icc=false'], /You specified --iptables=false with --icc=false. ICC=false uses iptables to function. Please set --icc or --iptables to true./],
    [['--bridge', 'bt-missing0'], /bridge device with non default name bt-missing0 must be created manually/],
  ];
  for (const [args, reason] of cases) {
    const other = await startDaemon({ args, waitReady: false });
    const code = await Promise.race([other.exited, new Promise((r) => setTimeout(() => r('timeout'), 20_000))]);
    const logs = other.logs();
    await other.cleanup();
    assert.notEqual(code, 0, `${args.join(' ')}: ${logs}`);
    assert.match(logs, reason);
  }
});

test('--icc=false: containers on the default bridge cannot talk to each other; --dns is every container\'s resolver; --mtu', async () => {
  const bridge = 'bt-nicc';
  assertSubnetsFree(['10.123.78.']);
  makeBridge(bridge, '10.123.78.1/24');
  const other = await startDaemon({ args: ['--bridge', bridge, '--icc=false', '--dns', '10.123.78.53', '--dns-search', 'icc.example', '--mtu', '1400'] });
  try {
    await docker(other.socket, ['import', '-c', 'CMD ["sh"]', join(work, 'rootfs.tar'), 'busybox:latest']);
    await docker(other.socket, ['run', '-d', '--name', 'lonely', 'busybox', 'sleep', '60'], { timeoutMs: 60_000 });
    const ip = JSON.parse((await docker(other.socket, ['inspect', 'lonely'])).stdout)[0].NetworkSettings.IPAddress;
    const r = await docker(other.socket, ['run', '--rm', 'busybox', 'sh', '-c', `cat /etc/resolv.conf; busybox ping -c1 -W1 ${ip} >/dev/null 2>&1; echo $?`], { timeoutMs: 60_000 });
    assert.equal(r.stdout, 'search icc.example\nnameserver 10.123.78.53\n1\n', r.stderr);
    assert.match((await docker(other.socket, ['exec', 'lonely', 'busybox', 'ip', 'link', 'show', 'eth0'])).stdout, / mtu 1400 /);
    assert.equal(JSON.parse((await docker(other.socket, ['network', 'inspect', 'bridge'])).stdout)[0].Options['com.docker.network.bridge.enable_icc'], 'false');
    await docker(other.socket, ['rm', '-f', 'lonely']);
  } finally {
    await other.cleanup();
    scrubDaemon(other.dataRoot, other.execRoot);
    deleteLink(bridge);
  }
});

test('every rule, interface and namespace the daemon made is gone after it stops', async () => {
  await removeAllContainers(d.socket);
  assert.equal(await d.stop(), 0);
  assert.equal(iptablesState(), rulesBefore);
  assert.deepEqual(links().filter((l) => !linksBefore.includes(l)), [BRIDGE]);
});
