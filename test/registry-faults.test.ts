// A registry that misbehaves (the fault proxy in front of a real docker-registry with htpasswd
// auth): a blob with the wrong digest, a connection dropped mid-blob, blobs redirected to another
// host, a schema1 manifest, a bounded number of downloads, and kill -9 of the daemon mid-pull;
// a corrupt bottom layer under one unpacked concurrently.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { apiRequest, docker, makeTempDir, onCleanup, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { makeDockerArchive, makeRandomLayer } from './helpers/docker-archive.js';
import { startFaultProxy, type FaultProxy } from './helpers/fault-proxy.js';
import { startRegistry, type RunningRegistry } from './helpers/registry.js';
import { makeBusyboxRootfs } from './helpers/rootfs.js';
import { poll } from './helpers/poll.js';

const USER = 'faulty';
const PASSWORD = 'faulty-pw';
const AUTH = Buffer.from(JSON.stringify({ username: USER, password: PASSWORD })).toString('base64url');
let r: RunningRegistry;
let proxy: FaultProxy;
let work: string;
let twoId: string;
/** Blob digests of t/two:1: [config, bottom layer, big top layer]. */
let blobs: { config: string; bottom: string; top: string };

before(async () => {
  work = makeTempDir('berth-registry-faults-');
  r = await startRegistry({ htpasswd: { user: USER, password: PASSWORD } });
  proxy = await startFaultProxy(r.host);
  const d = await startDaemon();
  try {
    const rootfs = makeBusyboxRootfs(work);
    const big = makeRandomLayer(work, 'big', 4, 1 << 20);
    const archive = makeDockerArchive(work, [rootfs.path, big], [`${r.host}/t/two:1`]);
    await docker(d.socket, ['load', '-i', archive.path]);
    const push = await apiRequest(d.socket, 'POST', `/images/${r.host}/t/two/push?tag=1`, undefined, { 'X-Registry-Auth': AUTH });
    assert.doesNotMatch(push.body, /"error"/, push.body);
    twoId = JSON.parse((await docker(d.socket, ['image', 'inspect', `${r.host}/t/two:1`])).stdout)[0].Id;
  } finally {
    await d.cleanup();
  }
  const res = await fetch(`http://${r.host}/v2/t/two/manifests/1`, {
    headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json', Authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` },
  });
  const m = (await res.json()) as { config: { digest: string }; layers: { digest: string }[] };
  blobs = { config: m.config.digest, bottom: m.layers[0].digest, top: m.layers[1].digest };
});
after(async () => {
  await proxy?.stop();
  await r?.stop();
  rmSync(work, { recursive: true, force: true });
});

const pull = (d: RunningDaemon, ref: string) => apiRequest(d.socket, 'POST', `/images/create?fromImage=${encodeURIComponent(ref)}&tag=1`, undefined, { 'X-Registry-Auth': AUTH });
const streamError = (body: string) => body.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((m) => m.error)?.error as string | undefined;
const committedLayers = (dataRoot: string) => {
  const root = join(dataRoot, 'image');
  return existsSync(root) ? readdirSync(root).flatMap((drv) => {
    const dir = join(root, drv, 'layerdb', 'sha256');
    return existsSync(dir) ? readdirSync(dir) : [];
  }) : [];
};
const images = async (d: RunningDaemon) => (await apiRequest(d.socket, 'GET', '/images/json')).json() as { Id: string }[];
const reset = () => { for (const k of Object.keys(proxy.faults)) delete (proxy.faults as Record<string, unknown>)[k]; };

async function freshDaemon(t: { after: (fn: () => unknown) => void }, args: string[] = []): Promise<RunningDaemon> {
  const d = await startDaemon({ args });
  onCleanup(t, () => d.cleanup());
  return d;
}

test('a blob whose content does not match its digest fails the pull and stores nothing', async (t) => {
  reset();
  proxy.faults.corrupt = new Set([blobs.top]);
  const d = await freshDaemon(t);
  const res = await pull(d, `${proxy.host}/t/two`);
  assert.equal(streamError(res.body), `filesystem layer verification failed for digest ${blobs.top}`, res.body);
  assert.deepEqual(await images(d), []);
  assert.deepEqual(committedLayers(d.dataRoot), [], 'the bottom layer registered for the failed pull went again');
});

test('a corrupt bottom layer fails the pull even when the layer above was unpacked meanwhile: no layer of it stays', async (t) => {
  reset();
  proxy.faults.corrupt = new Set([blobs.bottom]);
  proxy.faults.hold = new Set([blobs.bottom]);
  const d = await freshDaemon(t);
  const driver = ((await apiRequest(d.socket, 'GET', '/info')).json() as { Driver: string }).Driver;
  const pulling = pull(d, `${proxy.host}/t/two`);
  pulling.catch(() => {});
  // On overlay the top layer is unpacked while the bottom one has not even arrived.
  const overlay = join(d.dataRoot, 'overlay');
  const unpacked = () => existsSync(overlay) && readdirSync(overlay).some((l) => existsSync(join(overlay, l, 'diff/data/big-3.bin')) && statSync(join(overlay, l, 'diff/data/big-3.bin')).size === 1 << 20);
  if (driver === 'overlay') {
    await poll(unpacked, { intervalMs: 20, timeoutMs: 10_000 });
    assert.ok(unpacked(), 'the top layer is unpacked before the bottom one arrives');
  }
  proxy.release();
  const res = await pulling;
  assert.equal(streamError(res.body), `filesystem layer verification failed for digest ${blobs.bottom}`, res.body);
  assert.doesNotMatch(res.body, /Pull complete/);
  assert.deepEqual(await images(d), []);
  assert.deepEqual(committedLayers(d.dataRoot), []);
  const driverRoot = driver === 'overlay' ? overlay : join(d.dataRoot, 'vfs', 'dir');
  const left = existsSync(driverRoot) ? readdirSync(driverRoot).filter((n) => n !== 'l') : [];
  assert.deepEqual(left, [], 'no driver layer of the failed pull is left');
  if (driver === 'overlay') assert.deepEqual(readdirSync(join(overlay, 'l')), [], 'nor a short link');
});

test('a connection dropped mid-blob is resumed with a Range request and the pull succeeds', async (t) => {
  reset();
  proxy.faults.dropOnce = new Set([blobs.top]);
  const before = proxy.requests.length;
  const d = await freshDaemon(t);
  const res = await pull(d, `${proxy.host}/t/two`);
  assert.equal(streamError(res.body), undefined, res.body);
  assert.deepEqual((await images(d)).map((i) => i.Id), [twoId]);
  const ranges = proxy.requests.slice(before).filter((q) => q.url.endsWith(blobs.top)).map((q) => q.headers.range);
  assert.equal(ranges[0], undefined);
  assert.match(String(ranges[1]), /^bytes=[1-9][0-9]*-$/, 'the second request resumed where the first stopped');
});

test('a registry without range support: the dropped blob is fetched again from the start', async (t) => {
  reset();
  proxy.faults.dropOnce = new Set([blobs.top]);
  proxy.faults.noRange = true;
  const before = proxy.requests.length;
  const d = await freshDaemon(t);
  const res = await pull(d, `${proxy.host}/t/two`);
  assert.equal(streamError(res.body), undefined, res.body);
  assert.deepEqual((await images(d)).map((i) => i.Id), [twoId]);
  assert.equal(proxy.requests.slice(before).filter((q) => q.url.endsWith(blobs.top)).length, 2);
  const run = await docker(d.socket, ['run', '--rm', `${proxy.host}/t/two:1`, 'ls', '/data'], { timeoutMs: 60_000 });
  assert.equal(run.stdout, 'big-0.bin\nbig-1.bin\nbig-2.bin\nbig-3.bin\n', run.stderr);
});

test('blobs redirected to another host: that host never sees the credentials', async (t) => {
  reset();
  const seen: IncomingHttpHeaders[] = [];
  // The other host serves the blobs from the registry's storage folder.
  const other: Server = createServer((req, res) => {
    seen.push(req.headers);
    const digest = /\/blobs\/sha256:([a-f0-9]{64})$/.exec(req.url ?? '')?.[1];
    const file = digest ? join(r.dir, 'data/docker/registry/v2/blobs/sha256', digest.slice(0, 2), digest, 'data') : '';
    if (!file || !existsSync(file)) { res.writeHead(404).end(); return; }
    const data = readFileSync(file);
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': data.length }).end(data);
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  onCleanup(t, () => new Promise<void>((resolve) => { other.closeAllConnections(); other.close(() => resolve()); }));
  proxy.faults.redirectTo = `http://127.0.0.1:${(other.address() as { port: number }).port}`;
  const before = proxy.requests.length;
  const d = await freshDaemon(t);
  const res = await pull(d, `${proxy.host}/t/two`);
  assert.equal(streamError(res.body), undefined, res.body);
  assert.deepEqual((await images(d)).map((i) => i.Id), [twoId]);
  assert.equal(seen.length, 3, 'config and both layers came from the other host');
  assert.ok(seen.every((h) => h.authorization === undefined), 'no credentials went to the other host');
  assert.ok(proxy.requests.slice(before).some((q) => q.headers.authorization?.startsWith('Basic ')), 'the registry itself got them');
});

test('a registry answering 503 for a while: the requests are retried and the pull succeeds', async (t) => {
  reset();
  const d = await freshDaemon(t);
  // The first requests of the pull (ping, manifest HEAD) meet a busy registry.
  proxy.faults.busy = 3;
  const res = await pull(d, `${proxy.host}/t/two`);
  assert.equal(streamError(res.body), undefined, res.body);
  assert.equal(proxy.faults.busy, 0);
  assert.deepEqual((await images(d)).map((i) => i.Id), [twoId]);
});

test('a schema1 manifest is refused with a clear message', async (t) => {
  reset();
  proxy.faults.schema1Tags = new Set(['old']);
  const d = await freshDaemon(t);
  const res = await apiRequest(d.socket, 'POST', `/images/create?fromImage=${encodeURIComponent(`${proxy.host}/t/two`)}&tag=old`, undefined, { 'X-Registry-Auth': AUTH });
  assert.equal(res.status, 400);
  assert.match(res.json().message, /manifest version 2, schema 1 support is disabled/);
});

test('max-concurrent-downloads bounds the blobs downloaded at once', async (t) => {
  reset();
  proxy.inFlight.max = 0;
  const d = await freshDaemon(t, ['--max-concurrent-downloads', '1']);
  const res = await pull(d, `${proxy.host}/t/two`);
  assert.equal(streamError(res.body), undefined, res.body);
  assert.equal(proxy.inFlight.max, 1);
});

test('max-concurrent-uploads bounds the layers uploaded at once', async (t) => {
  reset();
  proxy.uploads.max = 0;
  const d = await freshDaemon(t, ['--max-concurrent-uploads', '1']);
  const layers = [0, 1, 2].map((i) => makeRandomLayer(work, `up${i}`, 2, 512 << 10));
  const archive = makeDockerArchive(work, layers, [`${proxy.host}/t/up:1`], 'up.tar');
  await docker(d.socket, ['load', '-i', archive.path]);
  const push = await apiRequest(d.socket, 'POST', `/images/${proxy.host}/t/up/push?tag=1`, undefined, { 'X-Registry-Auth': AUTH });
  assert.equal(streamError(push.body), undefined, push.body);
  assert.equal(push.body.match(/"status":"Pushed"/g)?.length, 3);
  assert.equal(proxy.uploads.max, 1);
});

test('kill -9 of the daemon mid-pull: no partial image; the next pull reuses the complete layer', async (t) => {
  reset();
  proxy.faults.stall = new Set([blobs.top]);
  const dir = makeTempDir('berth-registry-crash-');
  onCleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  const d = await startDaemon({ dir });
  onCleanup(t, () => d.cleanup());
  // The pull runs in the background: its request dies with the daemon.
  const req = request({ socketPath: d.socket, method: 'POST', path: `/images/create?fromImage=${encodeURIComponent(`${proxy.host}/t/two`)}&tag=1`, headers: { 'X-Registry-Auth': AUTH } }, (res) => res.resume());
  req.on('error', () => {});
  req.end();
  await poll(() => proxy.stalled() > 0 && committedLayers(d.dataRoot).length === 1, { intervalMs: 20, timeoutMs: 10_000 });
  assert.equal(proxy.stalled(), 1, 'the top layer is being downloaded');
  assert.equal(committedLayers(d.dataRoot).length, 1, 'the bottom layer is complete');
  d.proc.kill('SIGKILL');
  await d.exited;

  delete proxy.faults.stall;
  const again = await startDaemon({ dir });
  onCleanup(t, () => again.cleanup());
  assert.deepEqual(await images(again), [], 'no partial image is listed');
  assert.deepEqual(readdirSync(join(again.dataRoot, 'plugins/registry/tmp')), [], 'half-downloaded blobs are gone');
  const driver = ((await apiRequest(again.socket, 'GET', '/info')).json() as { Driver: string }).Driver;
  const driverRoot = driver === 'overlay' ? join(again.dataRoot, 'overlay') : join(again.dataRoot, 'vfs', 'dir');
  assert.equal(readdirSync(driverRoot).filter((n) => n !== 'l').length, 1, 'only the complete layer is left in the driver');
  const res = await pull(again, `${proxy.host}/t/two`);
  assert.equal(streamError(res.body), undefined, res.body);
  assert.match(res.body, /"status":"Already exists"/);
  assert.equal(res.body.match(/"status":"Pull complete"/g)?.length, 1);
  assert.deepEqual((await images(again)).map((i) => i.Id), [twoId]);
});

// Last: the blob it stalls stays held until the proxy stops (stalled() counts it).
test('a corrupt bottom layer while the top one never arrives: the pull fails with the bottom one\'s error', async (t) => {
  reset();
  proxy.faults.corrupt = new Set([blobs.bottom]);
  proxy.faults.stall = new Set([blobs.top]);
  const d = await freshDaemon(t);
  const res = await pull(d, `${proxy.host}/t/two`);
  assert.equal(streamError(res.body), `filesystem layer verification failed for digest ${blobs.bottom}`, res.body);
  assert.deepEqual(await images(d), []);
  assert.deepEqual(committedLayers(d.dataRoot), []);
});
