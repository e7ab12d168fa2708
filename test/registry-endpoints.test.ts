// How Berth reaches registries: an HTTPS registry that wants a client certificate gets the one in
// <registry-certs-dir>/HOST:PORT/, and --registry-mirror serves docker.io pulls.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { docker, makeTempDir, onCleanup, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { startRegistry, type RunningRegistry } from './helpers/registry.js';
import { makeBusyboxRootfs } from './helpers/rootfs.js';
import { makeTlsCerts, type TlsCerts } from './helpers/tls-certs.js';

let work: string;
let certs: TlsCerts;
let rootfs: string;

before(() => {
  work = makeTempDir('berth-registry-endpoints-');
  certs = makeTlsCerts();
  rootfs = makeBusyboxRootfs(work).path;
});
after(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(certs.dir, { recursive: true, force: true });
});

async function daemonWith(t: { after: (fn: () => unknown) => void }, args: string[]): Promise<RunningDaemon> {
  const d = await startDaemon({ args });
  onCleanup(t, () => d.cleanup());
  return d;
}

test('HTTPS registry requiring a client certificate: the pair in certs.d/HOST:PORT is used', async (t) => {
  const r: RunningRegistry = await startRegistry({ tls: { cert: certs.serverCert, key: certs.serverKey, clientCa: certs.ca } });
  onCleanup(t, () => r.stop());
  const certsDir = join(work, 'certs.d');
  const d = await daemonWith(t, ['--registry-certs-dir', certsDir]);
  const ref = `${r.host}/t/busybox:1`;
  await docker(d.socket, ['import', rootfs, ref]);
  const refused = await docker(d.socket, ['push', ref], { timeoutMs: 60_000, expectCode: 1 });
  // no client certificate yet
  assert.match(refused.stderr, new RegExp(`Get "https://${r.host}/v2/": `));


  mkdirSync(join(certsDir, r.host), { recursive: true });
  copyFileSync(certs.ca, join(certsDir, r.host, 'ca.crt'));
  copyFileSync(certs.clientCert, join(certsDir, r.host, 'client.cert'));
  copyFileSync(certs.clientKey, join(certsDir, r.host, 'client.key'));
  await docker(d.socket, ['push', ref], { timeoutMs: 60_000 });
  await docker(d.socket, ['rmi', ref]);
  const pull = await docker(d.socket, ['pull', ref], { timeoutMs: 60_000 });
  assert.match(pull.stdout, /Pull complete/);
});

test('--registry-mirror serves docker.io images', async (t) => {
  const mirror = await startRegistry();
  onCleanup(t, () => mirror.stop());
  const seed = await daemonWith(t, []);
  await docker(seed.socket, ['import', '-c', 'CMD ["sh"]', rootfs, `${mirror.host}/library/busybox:latest`]);
  await docker(seed.socket, ['push', `${mirror.host}/library/busybox:latest`], { timeoutMs: 60_000 });

  const d = await daemonWith(t, ['--registry-mirror', `http://${mirror.host}`]);
  const info = JSON.parse((await docker(d.socket, ['info', '--format', '{{json .RegistryConfig}}'])).stdout);
  assert.deepEqual(info.Mirrors, [`http://${mirror.host}/`]);
  assert.deepEqual(info.InsecureRegistryCIDRs, ['127.0.0.0/8']);
  const pull = await docker(d.socket, ['pull', 'busybox'], { timeoutMs: 60_000 });
  assert.match(pull.stdout, /Using default tag: latest\nlatest: Pulling from library\/busybox\n/);
  assert.match(pull.stdout, /Status: Downloaded newer image for busybox:latest\n/);
  const run = await docker(d.socket, ['run', '--rm', 'busybox', 'echo', 'from the mirror'], { timeoutMs: 60_000 });
  assert.equal(run.stdout, 'from the mirror\n', run.stderr);
});

test('docker search against a registry that offers /v1/search: limit and filters', async (t) => {
  const queries: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/v2/') { res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'); return; }
    if (url.pathname !== '/v1/search') { res.writeHead(404).end(); return; }
    queries.push(url.search);
    const results = [
      { name: 'busybox', description: 'tiny', star_count: 10, is_official: true, is_automated: false },
      { name: 'me/busy', description: 'mine', star_count: 1, is_official: false, is_automated: false },
      { name: 'you/busy', description: 'yours', star_count: 5, is_official: false, is_automated: true },
    ];
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ num_results: results.length, query: url.searchParams.get('q'), results }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(t, () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  const d = await daemonWith(t, []);
  const s = await docker(d.socket, ['search', '--filter', 'stars=3', '--format', '{{.Name}} {{.StarCount}} {{.IsOfficial}}', `${host}/busy`]);
  assert.equal(s.stdout, 'busybox 10 [OK]\nyou/busy 5 \n');
  const limited = await docker(d.socket, ['search', '--limit', '1', '--format', '{{.Name}}', `${host}/busy`]);
  assert.equal(limited.stdout, 'busybox\n');
  assert.equal(queries[0], '?q=busy&n=25');
  assert.equal(queries[1], '?q=busy&n=1');
});
