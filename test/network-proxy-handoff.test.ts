// Published ports without waiting for the proxy process: the daemon binds and serves a container's
// ports itself, so they answer as soon as `docker run -d -p` returns and a taken port is refused
// at once with dockerd's message; the proxy process then takes the very same listening sockets
// over. After that hand-off a kill -9 of the daemon (live-restore) leaves the port answering; a
// kill -9 before it leaves no proxy behind, and the restarted daemon serves the port again.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { docker, type DockerOptions } from './helpers/daemon.js';
import { fetchWithin, freePort, handedOff, publishedPort, portFree, portHolders, proxiesOfSubnet, proxyTestBed } from './helpers/network.js';

const BRIDGE = 'rn-ph';
const SUBNET = '10.123.235.';
const bed = proxyTestBed({ bridge: BRIDGE, subnet: SUBNET, name: 'netph', page: 'handed\n' });
const run = (a: string[], o: DockerOptions = {}) => docker(bed.d.socket, a, { timeoutMs: 60_000, ...o });
const WEB = ['busybox', 'busybox', 'httpd', '-f', '-p', '8080', '-h', '/www'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const proxies = () => proxiesOfSubnet(SUBNET);

/** Whether a TCP connection to 127.0.0.1:port is accepted right now (one attempt). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

test('the port answers as soon as docker run -d returns, served by the daemon itself first; the proxy process takes it over, and then a kill -9 of the daemon leaves it answering', async (t) => {
  const port = await freePort();
  let returned = false;
  const running = run(['run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:8080`, ...WEB]).finally(() => { returned = true; });
  // Watched while docker run runs: who holds the port when it first listens.
  let first: number[] = [];
  let proxiesThen: number[] = [];
  for (let i = 0; i < 10_000 && !returned && first.length === 0; i++) {
    first = portHolders(port);
    if (first.length) proxiesThen = proxies();
    else await sleep(2);
  }
  await running;
  assert.equal(await accepts(port), true, 'the port accepts connections as soon as docker run -d returns');
  assert.ok(first.includes(bed.d.proc.pid!), `the daemon itself listened on the port first (held by ${first.join() || 'nobody seen'}, daemon ${bed.d.proc.pid})`);
  t.diagnostic(`when the port first listened: ${proxiesThen.length ? `proxy process ${proxiesThen.join()} existed` : 'no proxy process existed yet'}`);
  assert.equal(await fetchWithin(port), 'handed\n');

  const proxy = await handedOff(port, SUBNET);
  assert.equal(await fetchWithin(port), 'handed\n', 'served by the proxy process');

  await bed.d.stop('SIGKILL');
  assert.equal(await fetchWithin(port), 'handed\n', 'the port answers with the daemon gone');
  bed.d = await bed.start(true);
  assert.equal(await publishedPort(bed.d.socket, 'web'), port);
  assert.deepEqual(proxies(), [proxy], 'the restarted daemon adopted the proxy');
  assert.deepEqual(portHolders(port), [proxy]);

  await run(['rm', '-f', 'web']);
  assert.deepEqual(proxies(), [], 'docker rm leaves no proxy process');
  assert.equal(await portFree(port), true, 'and the port is closed');
});

test('a taken port is refused at once with dockerd\'s message, and the container does not start', async () => {
  await run(['run', '-d', '--name', 'first', '-p', '127.0.0.1::8080', ...WEB]);
  const port = await publishedPort(bed.d.socket, 'first');
  const r = await run(['run', '-d', '--name', 'second', '-p', `127.0.0.1:${port}:8080`, ...WEB], { expectCode: 'any' });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, new RegExp(`Bind for 127\\.0\\.0\\.1:${port} failed: port is already allocated`));
  const state = JSON.parse((await run(['inspect', 'second'])).stdout)[0].State as { Running: boolean };
  assert.equal(state.Running, false);
  await handedOff(port, SUBNET);
  await run(['rm', '-f', 'first', 'second']);
  assert.deepEqual(proxies(), []);
  assert.equal(await portFree(port), true);
});

test('a kill -9 of the daemon before the hand-off leaves no proxy process and frees the port; the restarted daemon serves it again', async (t) => {
  let returned = false;
  const running = run(['run', '-d', '--name', 'early', '-p', '127.0.0.1::8080', ...WEB], { expectCode: 'any' }).finally(() => { returned = true; });
  // The daemon is killed the moment the proxy process shows: its Node is not up yet, it has
  // neither reported nor been recorded.
  let stray: number[] = [];
  for (let i = 0; i < 10_000 && !returned && stray.length === 0; i++) {
    stray = proxies();
    if (!stray.length) await sleep(2);
  }
  assert.equal(stray.length, 1, 'a proxy process was started');
  await bed.d.stop('SIGKILL');
  await running;
  const args = readFileSync(`/proc/${stray[0]}/cmdline`, 'utf8').split('\0');
  const port = (JSON.parse(args[args.indexOf('--berth-port-proxy') + 2]) as { hostPort: number }[])[0].hostPort;
  const records = join(bed.d.execRoot, 'port-proxies');
  if (existsSync(records) && readdirSync(records).some((f) => f.endsWith('.json'))) {
    t.diagnostic('the hand-off was recorded before the kill: the proxy rightly stays');
  } else {
    for (let i = 0; i < 100 && proxies().length > 0; i++) await sleep(50);
    assert.deepEqual(proxies(), [], 'the unrecorded proxy exited with the daemon');
    assert.equal(await portFree(port), true, 'and the port closed with them');
  }
  bed.d = await bed.start(true);
  // The kill may have come before the container started: it is started now.
  const state = JSON.parse((await run(['inspect', 'early'])).stdout)[0].State as { Running: boolean };
  if (!state.Running) await run(['start', 'early']);
  const again = await publishedPort(bed.d.socket, 'early');
  assert.equal(await fetchWithin(again), 'handed\n', 'the restarted daemon serves the port again');
  await handedOff(again, SUBNET);
  await run(['rm', '-f', 'early']);
  assert.deepEqual(proxies(), []);
  assert.equal(await portFree(again), true);
});
