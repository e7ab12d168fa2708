// Published ports outlive the daemon (issue 13, item 10): the userland proxy is a process per
// container with published ports, in a session of its own, as dockerd's docker-proxy. After
// kill -9 with --live-restore the port still answers on 127.0.0.1; a restarted daemon adopts the
// very same proxy (no gap) and `docker port` shows it; `docker stop` closes the port and leaves no
// proxy; without live-restore a graceful stop leaves none either.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { after, before, test } from 'node:test';
import { docker, makeTempDir, startDaemon, type DockerOptions, type RunningDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';
import { assertSubnetsFree, deleteLink, makeBridge, portFree, portHolders, scrubDaemon } from './helpers/network.js';

const BRIDGE = 'rn-pp';
const SUBNET = '10.123.234.';
let d: RunningDaemon;
let dir: string;
let work: string;

const start = (live: boolean) => startDaemon({ dir, args: ['--bridge', BRIDGE, ...(live ? ['--live-restore'] : [])] });
const run = (a: string[], o: DockerOptions = {}) => docker(d.socket, a, { timeoutMs: 60_000, ...o });
const WEB = ['busybox', 'busybox', 'httpd', '-f', '-p', '8080', '-h', '/www'];

/** The port proxy processes serving this test's subnet (their command line names the container's address). */
function proxies(): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let args: string[];
    try { args = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0'); } catch { continue; }
    if (args.includes('--berth-port-proxy') && args.some((a) => a.includes(`"containerIp":"${SUBNET}`))) out.push(Number(p));
  }
  return out.sort();
}

function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/', timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    }).on('error', reject).on('timeout', function (this: { destroy: () => void }) { this.destroy(); });
  });
}

async function fetchWithin(port: number): Promise<string> {
  let last: unknown;
  for (let i = 0; i < 50; i++) {
    try { return await httpGet(port); } catch (err) { last = err; }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw last;
}

async function publishedPort(name: string): Promise<number> {
  const out = (await run(['port', name, '8080'])).stdout.trim();
  const m = /^127\.0\.0\.1:(\d+)$/.exec(out);
  assert.ok(m, `docker port ${name} 8080: ${out}`);
  return Number(m[1]);
}

/** The port's proxy process, once it alone holds the port: the daemon served it until then. */
async function handedOff(port: number): Promise<number[]> {
  for (let i = 0; i < 200; i++) {
    const p = proxies();
    if (p.length === 1 && portHolders(port).join() === p.join()) return p;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`the port ${port} was not handed to one proxy process: held by ${portHolders(port).join() || 'nobody'}, proxies ${proxies().join() || 'none'}`);
}

before(async () => {
  assertSubnetsFree([SUBNET]);
  assert.deepEqual(proxies(), [], 'no proxy of this subnet before the test');
  makeBridge(BRIDGE, `${SUBNET}1/24`);
  work = makeTempDir('berth-netpp-');
  dir = makeTempDir('berth-netpp-d-');
  d = await start(true);
  await importBusybox(d.socket, work, { files: { 'www/index.html': 'proxied\n' } });
});

after(async () => {
  if (d) {
    // A test that failed with the daemon killed left its containers running (live-restore): a
    // start without live-restore stops them, then they are removed.
    if (d.proc.exitCode !== null || d.proc.signalCode !== null) d = await start(false).catch(() => d);
    if (d.proc.exitCode === null && d.proc.signalCode === null) await removeAllContainers(d.socket);
    await d.stop();
    scrubDaemon(d.dataRoot, d.execRoot);
  }
  // Whatever a failed test left: only this test's proxies.
  for (const pid of proxies()) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  deleteLink(BRIDGE);
  rmSync(work, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

test('kill -9 with live-restore: the published port still answers; the restarted daemon adopts its proxy and docker port shows it; docker stop closes it', async () => {
  const r = await run(['run', '-d', '--name', 'web', '--restart', 'unless-stopped', '-p', '127.0.0.1::8080', ...WEB]);
  const port = await publishedPort('web');
  assert.equal(await fetchWithin(port), 'proxied\n');
  const proxy = await handedOff(port);

  await d.stop('SIGKILL');
  assert.equal(await fetchWithin(port), 'proxied\n', 'the port answers with the daemon gone');
  assert.deepEqual(proxies(), proxy);

  d = await start(true);
  assert.equal(await publishedPort('web'), port, 'docker port shows the same port after the restart');
  assert.equal(await fetchWithin(port), 'proxied\n');
  assert.deepEqual(proxies(), proxy, 'the restarted daemon adopted the proxy (no second one, no gap)');

  // A graceful stop with live-restore leaves it too.
  assert.equal(await d.stop(), 0);
  assert.equal(await fetchWithin(port), 'proxied\n');
  d = await start(true);
  assert.equal(await publishedPort('web'), port);
  assert.deepEqual(proxies(), proxy);

  await run(['stop', '-t', '1', 'web']);
  assert.deepEqual(proxies(), [], 'docker stop leaves no proxy process');
  assert.equal(await portFree(port), true, 'and the port is closed');

  // Started again: a new proxy; removed: none left.
  await run(['start', 'web']);
  const again = await publishedPort('web');
  assert.equal(await fetchWithin(again), 'proxied\n');
  await handedOff(again);
  await run(['rm', '-f', 'web']);
  assert.deepEqual(proxies(), []);
  assert.equal(await portFree(again), true);
});

test('a container that ends while the daemon is down: at restart its proxy is gone and its port free', async () => {
  await run(['run', '-d', '--name', 'gone', '-p', '127.0.0.1::8080', ...WEB]);
  const port = await publishedPort('gone');
  assert.equal(await fetchWithin(port), 'proxied\n');
  await handedOff(port);
  const pid = JSON.parse((await run(['inspect', 'gone'])).stdout)[0].State.Pid as number;
  await d.stop('SIGKILL');
  process.kill(pid, 'SIGKILL');
  d = await start(true);
  await run(['ps', '-aq']);
  assert.deepEqual(proxies(), []);
  assert.equal(await portFree(port), true);
  await run(['rm', '-f', 'gone']);
});

test('without live-restore a graceful stop leaves no proxy process and frees the port', async () => {
  assert.equal(await d.stop(), 0);
  d = await start(false);
  await run(['run', '-d', '--name', 'web2', '--stop-timeout', '1', '-p', '127.0.0.1::8080', ...WEB]);
  const port = await publishedPort('web2');
  assert.equal(await fetchWithin(port), 'proxied\n');
  await handedOff(port);
  assert.equal(await d.stop(), 0);
  assert.deepEqual(proxies(), []);
  assert.equal(await portFree(port), true);
  d = await start(false);
  await run(['rm', '-f', 'web2']);
});
