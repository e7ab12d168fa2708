// docker load of OCI image layouts and of malicious archives; docker import from a URL on loopback.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { apiRequest, docker, makeTempDir, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { makeBusyboxRootfs, type RootfsTar } from './helpers/rootfs.js';
import { buildTar } from './helpers/tar-build.js';

let d: RunningDaemon;
let work: string;
let rootfs: RootfsTar;
before(async () => {
  work = makeTempDir('berth-formats-');
  rootfs = makeBusyboxRootfs(work);
  d = await startDaemon();
});
after(async () => {
  await d?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** An OCI image layout archive (index.json, oci-layout, blobs) with one gzip layer. */
function ociArchive(layerTar: Buffer, refName: string): { archive: Buffer; configDigest: string } {
  const layerGz = gzipSync(layerTar);
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2026-01-01T00:00:00Z', config: { Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: [digestOf(layerTar)] },
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digestOf(layerGz), size: layerGz.length }],
  }));
  const index = JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digestOf(manifest), size: manifest.length, annotations: { 'io.containerd.image.name': refName, 'org.opencontainers.image.ref.name': '1' } }],
  });
  const blob = (b: Buffer) => ({ name: `blobs/sha256/${digestOf(b).slice(7)}`, data: b });
  return {
    archive: buildTar([
      { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
      { name: 'index.json', data: index },
      { name: 'blobs/', type: 'dir' },
      { name: 'blobs/sha256/', type: 'dir' },
      blob(layerGz), blob(config), blob(manifest),
    ]),
    configDigest: digestOf(config),
  };
}

test('docker load accepts an OCI image layout with a gzip layer and names it from the annotation', async () => {
  const { archive, configDigest } = ociArchive(readFileSync(rootfs.path), 'docker.io/library/oci-busybox:1');
  const path = join(work, 'oci.tar');
  writeFileSync(path, archive);
  const r = await docker(d.socket, ['load', '-i', path], { timeoutMs: 60_000 });
  assert.equal(r.stdout.trim(), 'Loaded image: oci-busybox:1');
  const inspect = (await apiRequest(d.socket, 'GET', '/images/oci-busybox:1/json')).json();
  assert.equal(inspect.Id, configDigest, 'the image ID is the config digest');
  assert.deepEqual(inspect.RootFS.Layers, [rootfs.digest], 'the diffID is of the uncompressed layer');
});

test('docker load of an archive whose layer escapes is refused, names the entry, and stores nothing', async () => {
  const outside = join(work, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'keep'), 'untouched');
  const before = JSON.stringify(readdirSync(outside).map((n) => [n, statSync(join(outside, n)).mtimeMs]));
  const evil = buildTar([
    { name: 'ok.txt', data: 'fine' },
    { name: 'link', type: 'symlink', linkname: outside },
    { name: 'link/pwned', data: 'gotcha' },
  ]);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf(evil)] } }));
  const archive = buildTar([
    { name: 'layer/layer.tar', data: evil },
    { name: 'config.json', data: config },
    { name: 'manifest.json', data: JSON.stringify([{ Config: 'config.json', RepoTags: ['evil:1'], Layers: ['layer/layer.tar'] }]) },
  ]);
  const path = join(work, 'evil.tar');
  writeFileSync(path, archive);
  const imagesBefore = (await apiRequest(d.socket, 'GET', '/images/json')).json().length;
  const r = await docker(d.socket, ['load', '-i', path], { timeoutMs: 60_000, expectCode: 'failure' });
  assert.match(r.stderr, /invalid layer archive: entry "link\/pwned"/);
  assert.equal(JSON.stringify(readdirSync(outside).map((n) => [n, statSync(join(outside, n)).mtimeMs])), before);
  assert.equal(readFileSync(join(outside, 'keep'), 'utf8'), 'untouched');
  assert.equal((await apiRequest(d.socket, 'GET', '/images/json')).json().length, imagesBefore);
  assert.equal((await apiRequest(d.socket, 'GET', '/images/evil:1/json')).status, 404);
  // No layer of it was kept either.
  const layerdb = readdirSync(join(d.dataRoot, 'image')).flatMap((drv) => readdirSync(join(d.dataRoot, 'image', drv, 'layerdb', 'sha256')));
  assert.ok(!layerdb.includes(digestOf(evil).slice(7)));
});

test('docker load of something that is not an image archive gets a clear error', async () => {
  const path = join(work, 'junk.tar');
  writeFileSync(path, buildTar([{ name: 'hello.txt', data: 'not an image' }]));
  const r = await docker(d.socket, ['load', '-i', path], { timeoutMs: 60_000, expectCode: 'failure' });
  assert.match(r.stderr, /neither manifest\.json \(docker save\) nor index\.json \(OCI image layout\)/);
});

test('docker import from an http URL served on loopback', async (t) => {
  const body = readFileSync(rootfs.path);
  const server = createServer((req, res) => {
    if (req.url === '/rootfs.tar') res.writeHead(200, { 'Content-Length': body.length }).end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  await docker(d.socket, ['import', `http://127.0.0.1:${port}/rootfs.tar`, 'from-url:1'], { timeoutMs: 60_000 });
  const inspect = (await apiRequest(d.socket, 'GET', '/images/from-url:1/json')).json();
  assert.deepEqual(inspect.RootFS.Layers, [rootfs.digest]);
  assert.equal(inspect.Comment, `Imported from http://127.0.0.1:${port}/rootfs.tar`);
  const missing = await docker(d.socket, ['import', `http://127.0.0.1:${port}/nope.tar`, 'from-url:2'], { timeoutMs: 60_000, expectCode: 'failure' });
  assert.match(missing.stderr, /cannot download .*nope\.tar: 404/);
});
