// Networking across daemon crashes: after kill -9 and a restart (live-restore) the running
// containers keep their addresses, interfaces, names and published ports, and no rule is doubled;
// after a crash without live-restore the containers' interfaces, namespaces and port rules go
// and their addresses wait for their next start.
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { docker, type DockerOptions, makeTempDir, type RunningDaemon, startDaemon } from './helpers/daemon.js';
import { removeAllContainers } from './helpers/busybox.js';
import { assertSubnetsFree, deleteLink, fetchWithin, freePort, iptablesState, links, makeBridge, portFree, scrubDaemon } from './helpers/network.js';
import { makeBusyboxRootfs } from './helpers/rootfs.js';

const BRIDGE = 'bt-nrst';
let d: RunningDaemon;
let dir: string;
let work: string;
let rulesBefore: string;
let linksBefore: string[];
let port: number;
let userBridge = '';

const args = (live: boolean) => ['--bridge', BRIDGE, ...(live ? ['--live-restore'] : [])];
const run = (a: string[], opts: DockerOptions = {}) => docker(d.socket, a, { timeoutMs: 60_000, ...opts });
const veths = () => links().filter((l) => l.startsWith('veth')).sort();
const ownRules = () => iptablesState().split('\n').filter((l) => l.includes('berth:')).sort();

const addresses = async () => Object.fromEntries(await Promise.all(['web', 'peer', 'plain'].map(async (n) => {
  const ns = JSON.parse((await run(['inspect', n])).stdout)[0].NetworkSettings;
  return [n, Object.values(ns.Networks as Record<string, { IPAddress: string }>).map((x) => x.IPAddress).join(',')];
})));

before(async () => {
  assertSubnetsFree(['10.123.85.', '10.123.86.']);
  rulesBefore = iptablesState();
  linksBefore = links();
  makeBridge(BRIDGE, '10.123.85.1/24');
  work = makeTempDir('berth-netrst-');
  dir = makeTempDir('berth-netrst-d-');
  d = await startDaemon({ dir, args: args(true) });
  await run(['import', '-c', 'CMD ["sh"]', makeBusyboxRootfs(work, { 'www/index.html': 'still here\n' }).path, 'busybox:latest']);
  const net = await run(['network', 'create', '--subnet', '10.123.86.0/24', 'rnet']);
  userBridge = `br-${net.stdout.trim().slice(0, 12)}`;
  port = await freePort();
  for (const a of [
    ['--name', 'web', '--network', 'rnet', '-p', `127.0.0.1:${port}:8080`, 'busybox', 'busybox', 'httpd', '-f', '-p', '8080', '-h', '/www'],
    ['--name', 'peer', '--network', 'rnet', 'busybox', 'sleep', '600'],
    ['--name', 'plain', 'busybox', 'sleep', '600'],
  ]) await run(['run', '-d', ...a]);
  assert.equal(await fetchWithin(port), 'still here\n');
});

after(async () => {
  if (d) {
    await removeAllContainers(d.socket);
    // Gone already when the test passed; the hook goes on to stop the daemon either way.
    await docker(d.socket, ['network', 'rm', 'rnet'], { expectCode: 'any' });
    await d.cleanup();
    scrubDaemon(d.dataRoot, d.execRoot, [userBridge]);
  }
  deleteLink(BRIDGE);
  rmSync(work, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

test('kill -9 and restart with live-restore: same addresses, same interfaces, no rule doubled, ports and names still work', async () => {
  const rules = ownRules();
  const ifs = veths();
  const addrs = await addresses();
  assert.equal(ifs.length, 3);
  await d.stop('SIGKILL');
  d = await startDaemon({ dir, args: args(true) });
  assert.deepEqual(ownRules(), rules);
  assert.deepEqual(veths(), ifs);
  assert.deepEqual(await addresses(), addrs);
  assert.equal(await fetchWithin(port), 'still here\n');
  assert.equal((await run(['port', 'web'])).stdout.trim(), `8080/tcp -> 127.0.0.1:${port}`);
  assert.equal((await run(['exec', 'peer', 'busybox', 'wget', '-qO-', 'http://web:8080/'])).stdout, 'still here\n');
  const webIp = addrs.web;
  assert.match((await run(['exec', 'peer', 'busybox', 'nslookup', 'web', '127.0.0.11'])).stdout, new RegExp(`Address:\\s+${webIp.replace(/\./g, '\\.')}$`, 'm'), 'the embedded resolver answers again');
  // A second crash changes nothing either.
  await d.stop('SIGKILL');
  d = await startDaemon({ dir, args: args(true) });
  assert.deepEqual(ownRules(), rules);
  assert.deepEqual(veths(), ifs);
});

test('kill -9 and restart without live-restore: containers stopped, their interfaces, namespaces and port rules gone; addresses kept for the next start', async () => {
  const addrs = await addresses();
  await d.stop('SIGKILL');
  d = await startDaemon({ dir, args: args(false) });
  const states = (await run(['ps', '-a', '--format', '{{.Names}} {{.State}}'])).stdout.trim().split('\n').sort();
  assert.deepEqual(states, ['peer exited', 'plain exited', 'web exited']);
  assert.deepEqual(veths(), []);
  assert.deepEqual(readdirSync(join(d.execRoot, 'netns')), []);
  assert.doesNotMatch(iptablesState(), new RegExp(`\\b${port}\\b`));
  await run(['start', 'web', 'peer', 'plain']);
  assert.deepEqual(await addresses(), addrs);
  assert.equal(await fetchWithin(port), 'still here\n');
});

test('a container that dies while the daemon is down: at restart its interface, namespace, rules and port are gone', async () => {
  const pid = JSON.parse((await run(['inspect', 'web'])).stdout)[0].State.Pid;
  const before = veths();
  await d.stop('SIGKILL');
  process.kill(pid, 'SIGKILL');
  d = await startDaemon({ dir, args: args(true) });
  assert.equal(JSON.parse((await run(['inspect', 'web'])).stdout)[0].State.Running, false);
  assert.equal(veths().length, before.length - 1);
  assert.equal(readdirSync(join(d.execRoot, 'netns')).length, 2);
  assert.doesNotMatch(iptablesState(), new RegExp(`\\b${port}\\b`));
  assert.equal(await portFree(port), true);
});

test('rm -f, network rm and a daemon stop leave the host as it was', async () => {
  // Without live-restore: a stop then removes everything the daemon made.
  await d.stop();
  d = await startDaemon({ dir, args: args(false) });
  await run(['rm', '-f', 'web', 'peer', 'plain']);
  await run(['network', 'rm', 'rnet']);
  assert.equal(await d.stop(), 0);
  assert.equal(iptablesState(), rulesBefore);
  assert.deepEqual(links().filter((l) => !linksBefore.includes(l)), [BRIDGE]);
});
