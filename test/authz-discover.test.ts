// Finding a Docker authz plugin by name in the plugin folders, as dockerd does: sockets first
// (NAME.sock, NAME/NAME.sock), then spec files (NAME.spec with a URL, NAME.json with TLS).
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { discoverPlugin } from '../lib/docker-plugin/index.js';
import { makeTempDir, onCleanup } from './helpers/daemon.js';

const listen = (path: string) => new Promise<Server>((resolve) => { const s = createServer(); s.listen(path, () => resolve(s)); });

test('sockets, nested sockets, .spec and .json files, in folder order', async (t) => {
  const a = makeTempDir('berth-authz-dir-a-');
  const b = makeTempDir('berth-authz-dir-b-');
  onCleanup(t, () => { rmSync(a, { recursive: true, force: true }); rmSync(b, { recursive: true, force: true }); });
  const flat = await listen(join(b, 'flat.sock'));
  mkdirSync(join(a, 'nested'));
  const nested = await listen(join(a, 'nested', 'nested.sock'));
  onCleanup(t, () => { flat.close(); nested.close(); });
  writeFileSync(join(a, 'flat.spec'), 'tcp://127.0.0.1:9999\n'); // a socket anywhere wins over a spec file
  writeFileSync(join(b, 'viaspec.spec'), 'unix:///run/elsewhere/plugin.sock\n');
  writeFileSync(join(a, 'viajson.json'), JSON.stringify({ Name: 'viajson', Addr: 'https://127.0.0.1:8443', TLSConfig: { InsecureSkipVerify: true } }));
  writeFileSync(join(a, 'badjson.json'), JSON.stringify({ Addr: 42 }));
  writeFileSync(join(a, 'badspec.spec'), 'ftp://x\n');
  const dirs = [a, b];
  assert.deepEqual(await discoverPlugin('flat', dirs), { kind: 'unix', path: join(b, 'flat.sock') });
  assert.deepEqual(await discoverPlugin('nested', dirs), { kind: 'unix', path: join(a, 'nested', 'nested.sock') });
  assert.deepEqual(await discoverPlugin('viaspec', dirs), { kind: 'unix', path: '/run/elsewhere/plugin.sock' });
  assert.deepEqual(await discoverPlugin('viajson', dirs), {
    kind: 'tcp', host: '127.0.0.1', port: 8443, tls: { ca: undefined, cert: undefined, key: undefined, insecureSkipVerify: true },
  });
  await assert.rejects(discoverPlugin('badjson', dirs), /badjson\.json: Addr: must be a string/);
  await assert.rejects(discoverPlugin('badspec', dirs), /unsupported plugin address "ftp:\/\/x"/);
  await assert.rejects(discoverPlugin('missing', dirs), new RegExp(`plugin not found: no missing\\.sock, missing\\.spec or missing\\.json in ${a}, ${b}`));
  await assert.rejects(discoverPlugin('../etc/x', dirs), /invalid plugin name/);
});
