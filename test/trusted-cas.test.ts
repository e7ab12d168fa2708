// NODE_EXTRA_CA_CERTS extends the authorities the daemon's TLS clients trust, as node defines it.
// bin/berthd hands the file to the daemon to read when a TLS client first needs it (node would parse
// every certificate of it at each start: 30-40 ms). Checked with a remote build context served over
// HTTPS on loopback by a throw-away CA: refused without the variable, built with it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { apiRequest, docker, makeTempDir, onCleanup, startDaemon } from './helpers/daemon.js';
import { makeTlsCerts, type TlsCerts } from './helpers/tls-certs.js';

let work: string;
let certs: TlsCerts;
before(() => {
  work = makeTempDir('berth-trusted-cas-');
  certs = makeTlsCerts();
});
after(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(certs.dir, { recursive: true, force: true });
});

test('a remote build context on an HTTPS server whose CA is in NODE_EXTRA_CA_CERTS is trusted; without it, refused', async (t) => {
  const ctx = join(work, 'ctx');
  mkdirSync(ctx);
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY hello /hello\n');
  writeFileSync(join(ctx, 'hello'), 'over TLS\n');
  const tar = execFileSync('tar', ['-cf', '-', '-C', ctx, '.']);
  const server = createServer({ cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey) }, (req, res) => {
    if (req.url !== '/ctx.tar') { res.statusCode = 404; res.end(); return; }
    res.writeHead(200, { 'Content-Length': tar.length }).end(tar);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  const url = encodeURIComponent(`https://127.0.0.1:${(server.address() as AddressInfo).port}/ctx.tar`);

  const plain = await startDaemon();
  onCleanup(t, () => plain.cleanup());
  const refused = await apiRequest(plain.socket, 'POST', `/build?remote=${url}&t=tls:1`);
  assert.match(refused.body, /error downloading remote context .*(certificate|self.signed|unable to verify)/i, refused.body);

  const trusting = await startDaemon({ env: { NODE_EXTRA_CA_CERTS: certs.ca } });
  onCleanup(t, () => trusting.cleanup());
  const built = await apiRequest(trusting.socket, 'POST', `/build?remote=${url}&t=tls:1`);
  assert.match(built.body, /Successfully tagged tls:1/, built.body);
  const saved = await docker(trusting.socket, ['image', 'inspect', '--format', '{{.RootFS.Type}}', 'tls:1']);
  assert.equal(saved.stdout, 'layers\n');
});
