// Published ports outlive the daemon (issue 13, item 10): the userland proxy is a process per
// container with published ports, in a session of its own, as dockerd's docker-proxy. After
// kill -9 with --live-restore the port still answers on 127.0.0.1; a restarted daemon adopts the
// very same proxy (no gap) and `docker port` shows it; `docker stop` closes the port and leaves no
// proxy; without live-restore a graceful stop leaves none either.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { docker, type DockerOptions } from './helpers/daemon.js';
import { fetchWithin, handedOff, publishedPort, portFree, proxiesOfSubnet, proxyTestBed } from './helpers/network.js';

const BRIDGE = 'rn-pp';
const SUBNET = '10.123.234.';
const bed = proxyTestBed({ bridge: BRIDGE, subnet: SUBNET, name: 'netpp', page: 'proxied\n' });
const run = (a: string[], o: DockerOptions = {}) => docker(bed.d.socket, a, { timeoutMs: 60_000, ...o });
const WEB = ['busybox', 'busybox', 'httpd', '-f', '-p', '8080', '-h', '/www'];
const proxies = () => proxiesOfSubnet(SUBNET);

test('kill -9 with live-restore: the published port still answers; the restarted daemon adopts its proxy and docker port shows it; docker stop closes it', async () => {
  await run(['run', '-d', '--name', 'web', '--restart', 'unless-stopped', '-p', '127.0.0.1::8080', ...WEB]);
  const port = await publishedPort(bed.d.socket, 'web');
  assert.equal(await fetchWithin(port), 'proxied\n');
  const proxy = [await handedOff(port, SUBNET)];

  await bed.d.stop('SIGKILL');
  assert.equal(await fetchWithin(port), 'proxied\n', 'the port answers with the daemon gone');
  assert.deepEqual(proxies(), proxy);

  bed.d = await bed.start(true);
  assert.equal(await publishedPort(bed.d.socket, 'web'), port, 'docker port shows the same port after the restart');
  assert.equal(await fetchWithin(port), 'proxied\n');
  assert.deepEqual(proxies(), proxy, 'the restarted daemon adopted the proxy (no second one, no gap)');

  // A graceful stop with live-restore leaves it too.
  assert.equal(await bed.d.stop(), 0);
  assert.equal(await fetchWithin(port), 'proxied\n');
  bed.d = await bed.start(true);
  assert.equal(await publishedPort(bed.d.socket, 'web'), port);
  assert.deepEqual(proxies(), proxy);

  await run(['stop', '-t', '1', 'web']);
  assert.deepEqual(proxies(), [], 'docker stop leaves no proxy process');
  assert.equal(await portFree(port), true, 'and the port is closed');

  // Started again: a new proxy; removed: none left.
  await run(['start', 'web']);
  const again = await publishedPort(bed.d.socket, 'web');
  assert.equal(await fetchWithin(again), 'proxied\n');
  await handedOff(again, SUBNET);
  await run(['rm', '-f', 'web']);
  assert.deepEqual(proxies(), []);
  assert.equal(await portFree(again), true);
});

test('a container that ends while the daemon is down: at restart its proxy is gone and its port free', async () => {
  await run(['run', '-d', '--name', 'gone', '-p', '127.0.0.1::8080', ...WEB]);
  const port = await publishedPort(bed.d.socket, 'gone');
  assert.equal(await fetchWithin(port), 'proxied\n');
  await handedOff(port, SUBNET);
  const pid = JSON.parse((await run(['inspect', 'gone'])).stdout)[0].State.Pid as number;
  await bed.d.stop('SIGKILL');
  process.kill(pid, 'SIGKILL');
  bed.d = await bed.start(true);
  await run(['ps', '-aq']);
  assert.deepEqual(proxies(), []);
  assert.equal(await portFree(port), true);
  await run(['rm', '-f', 'gone']);
});

test('without live-restore a graceful stop leaves no proxy process and frees the port', async () => {
  assert.equal(await bed.d.stop(), 0);
  bed.d = await bed.start(false);
  await run(['run', '-d', '--name', 'web2', '--stop-timeout', '1', '-p', '127.0.0.1::8080', ...WEB]);
  const port = await publishedPort(bed.d.socket, 'web2');
  assert.equal(await fetchWithin(port), 'proxied\n');
  await handedOff(port, SUBNET);
  assert.equal(await bed.d.stop(), 0);
  assert.deepEqual(proxies(), []);
  assert.equal(await portFree(port), true);
  bed.d = await bed.start(false);
  await run(['rm', '-f', 'web2']);
});
