// Docker's authz plugin protocol: a plugin written here (an HTTP server on a unix socket in a
// plugin folder) sees every request of a docker run with user, method, URI and body, denies with
// its own message, and a plugin that fails, hangs or is gone denies, naming it.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { bodyOf, HANG, startFakeAuthzPlugin, type FakeAuthzPlugin } from './helpers/authz-plugin-server.js';
import { apiRequest, docker, type DockerOptions, makeTempDir, type RunningDaemon, startDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';
import { freePort } from './helpers/ports.js';
import { chunkedRequest, rawRequest } from './helpers/raw-http.js';
import { makeTlsCerts, type TlsCerts } from './helpers/tls-certs.js';
import { poll } from './helpers/poll.js';

let d: RunningDaemon;
let work: string;
let pluginDir: string;
let plugin: FakeAuthzPlugin;
let certs: TlsCerts;
let port: number;

const allowAll = () => ({ Allow: true });


before(async () => {
  work = makeTempDir('berth-authz-docker-');
  pluginDir = join(work, 'plugins');
  mkdirSync(pluginDir);
  plugin = await startFakeAuthzPlugin(join(pluginDir, 'testauthz.sock'));
  certs = makeTlsCerts();
  port = await freePort();
  d = await startDaemon({
    args: [
      '--authorization-plugin', 'testauthz', '--authz-plugin-dir', pluginDir, '--authz-timeout', '2',
      '-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', certs.ca, '--tlscert', certs.serverCert, '--tlskey', certs.serverKey,
    ],
  });
  await importBusybox(d.socket, work);
});
after(async () => {
  plugin.onRequest = allowAll;
  plugin.onResponse = allowAll;
  await removeAllContainers(d.socket);
  await d?.cleanup();
  await plugin.stop();
  rmSync(work, { recursive: true, force: true });
  rmSync(certs.dir, { recursive: true, force: true });
});

const requests = () => plugin.calls.filter((c) => c.method === '/AuthZPlugin.AuthZReq').map((c) => c.doc);

test('the plugin is activated once and sees every request of docker run: user, method, URI, headers and body', async () => {
  assert.equal(plugin.calls[0].method, '/Plugin.Activate');
  assert.equal(plugin.calls.filter((c) => c.method === '/Plugin.Activate').length, 1);
  assert.ok(plugin.calls.every((c) => c.contentType === 'application/vnd.docker.plugins.v1.2+json'));
  plugin.calls.length = 0;
  const r = await docker(d.socket, ['run', '--rm', '--label', 'who=authz-test', 'busybox', 'echo', 'hi'], { timeoutMs: 60_000 });
  assert.equal(r.stdout, 'hi\n', r.stderr);
  const seen = requests();
  const lines = seen.map((doc) => `${doc.RequestMethod} ${doc.RequestUri}`);
  const create = seen.find((doc) => doc.RequestMethod === 'POST' && /^\/v1\.\d+\/containers\/create(\?|$)/.test(doc.RequestUri));
  assert.ok(create, `create seen: ${lines.join('\n')}`);
  const body = JSON.parse(bodyOf(create));
  assert.equal(body.Image, 'busybox');
  assert.deepEqual(body.Labels, { who: 'authz-test' });
  assert.equal(create.RequestHeaders['Content-Type'], 'application/json');
  assert.equal(create.User ?? '', '', 'the unix socket identifies nobody');
  assert.equal(create.UserAuthNMethod ?? '', '');
  const res = plugin.calls.find((c) => c.method === '/AuthZPlugin.AuthZRes' && c.doc.RequestUri === create.RequestUri)!.doc;
  assert.equal(res.ResponseStatusCode, 201);
  assert.equal(res.ResponseHeaders['Content-Type'], 'application/json');
  const id = JSON.parse(Buffer.from(res.ResponseBody, 'base64').toString('utf8')).Id as string;
  assert.match(id, /^[0-9a-f]{64}$/, 'AuthZRes carried the create response body');
  for (const path of [`/containers/${id}/attach`, `/containers/${id}/start`, `/containers/${id}/wait`]) {
    assert.ok(seen.some((doc) => doc.RequestMethod === 'POST' && /^\/v1\.\d+\//.test(doc.RequestUri) && doc.RequestUri.replace(/^\/v1\.\d+/, '').startsWith(path)), `${path} seen: ${lines.join('\n')}`);
  }
  assert.ok(lines.some((l) => /^(HEAD|GET) \/_ping$/.test(l)), 'the ping is authorized too');
});

test('a chunked body reaches the plugin byte for byte, as the handler gets it; credentials do not', async () => {
  plugin.calls.length = 0;
  const text = JSON.stringify({ Image: 'busybox', Cmd: ['true'], Labels: { framing: 'chunked' } });
  const r = await rawRequest(d.socket, chunkedRequest('POST', '/v1.41/containers/create?name=chunky', text,
    ['Content-Type: application/json', 'Authorization: Bearer s3cret', 'X-Registry-Auth: eyJ1c2VyIjoieCJ9']));
  assert.equal(r.status, 201, r.text);
  const seen = requests().find((doc) => doc.RequestUri === '/v1.41/containers/create?name=chunky')!;
  assert.equal(bodyOf(seen), text);
  assert.equal(seen.RequestHeaders['Transfer-Encoding'], 'chunked');
  assert.equal(seen.RequestHeaders.Authorization, undefined);
  assert.equal(seen.RequestHeaders['X-Registry-Auth'], undefined);
  const inspect = await apiRequest(d.socket, 'GET', '/containers/chunky/json');
  assert.deepEqual(inspect.json().Config.Labels, { framing: 'chunked' });
  await docker(d.socket, ['rm', 'chunky']);
});

test('uploads stream past the plugin unbuffered (marked by no body); logs and cp work with the response stage on', async () => {
  const id = (await docker(d.socket, ['run', '-d', 'busybox', 'sh', '-c', 'echo logged; sleep 30'], { timeoutMs: 60_000 })).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(work, 'note.txt'), 'copied in\n');
  plugin.calls.length = 0;
  await docker(d.socket, ['cp', join(work, 'note.txt'), `${id}:/tmp/note.txt`]);
  const put = requests().find((doc) => doc.RequestMethod === 'PUT' && String(doc.RequestUri).includes('/archive'));
  assert.ok(put, 'the upload was authorized');
  assert.equal(put.RequestBody, undefined, 'the tar stream is not given to plugins');
  assert.equal((await docker(d.socket, ['exec', id, 'cat', '/tmp/note.txt'])).stdout, 'copied in\n');
  await poll(async () => (await docker(d.socket, ['logs', id])).stdout.includes('logged'), { maxTries: 50, intervalMs: 100 });
  assert.equal((await docker(d.socket, ['logs', id])).stdout, 'logged\n');
  await docker(d.socket, ['rm', '-f', id]);
});

test('a deny shows the plugin\'s message in the CLI; a denied response is not sent', async (t) => {
  t.after(() => { plugin.onRequest = allowAll; plugin.onResponse = allowAll; });
  plugin.onRequest = (doc) => (/\/containers\/create/.test(doc.RequestUri) ? { Allow: false, Msg: 'no containers today' } : { Allow: true });
  const r = await docker(d.socket, ['run', '--rm', 'busybox', 'true'], { timeoutMs: 60_000, expectCode: 'failure' });
  assert.match(r.stderr, /Error response from daemon: authorization denied by plugin testauthz: no containers today/);
  assert.equal((await docker(d.socket, ['ps', '-aq'])).stdout.trim(), '');
  plugin.onRequest = allowAll;
  plugin.onResponse = (doc) => (/\/containers\/json/.test(doc.RequestUri) ? { Allow: false, Msg: 'the list is private' } : { Allow: true });
  const ps = await docker(d.socket, ['ps'], { expectCode: 'failure' });
  assert.match(ps.stderr, /authorization denied by plugin testauthz: the list is private/);
  assert.doesNotMatch(ps.stdout, /CONTAINER ID/);
});

test('garbage, errors, a hang and a stopped plugin all deny, naming the plugin; a restarted plugin is used again', async (t) => {
  t.after(() => { plugin.onRequest = allowAll; });
  const ps = (opts: DockerOptions = {}) => docker(d.socket, ['ps'], opts);
  plugin.onRequest = () => 'this is not JSON';
  assert.match((await ps({ expectCode: 'failure' })).stderr, /plugin testauthz failed with error: AuthZPlugin\.AuthZReq: invalid JSON answer/);
  plugin.onRequest = () => ({ Allow: 'yes' });
  assert.match((await ps({ expectCode: 'failure' })).stderr, /plugin testauthz failed with error: AuthZPlugin\.AuthZReq: invalid answer/);
  plugin.onRequest = () => ({ Allow: true, Err: 'policy engine down' });
  assert.match((await ps({ expectCode: 'failure' })).stderr, /plugin testauthz failed with error: AuthZPlugin\.AuthZReq: policy engine down/);
  // (The CLI gives up on its own ping before 2 s: ask the API directly.)
  plugin.onRequest = () => HANG;
  const hung = await apiRequest(d.socket, 'GET', '/v1.41/containers/json');
  assert.equal(hung.status, 403);
  assert.match(hung.json().message, /^plugin testauthz failed with error: .*no answer within 2000 ms/);
  plugin.onRequest = allowAll;
  await plugin.stop();
  const stopped = await ps({ expectCode: 'failure' });
  assert.match(stopped.stderr, /plugin testauthz failed with error: plugin not found: no testauthz\.sock/);
  plugin = await startFakeAuthzPlugin(join(pluginDir, 'testauthz.sock'));
  await ps();
  assert.equal(plugin.calls[0]?.method, '/Plugin.Activate', 're-activated after it came back');
});

test('over TLS with --tlsverify the plugin sees the client certificate\'s CN as User, method "TLS"', async () => {
  plugin.calls.length = 0;
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpsRequest({
      host: '127.0.0.1', port, path: '/v1.41/containers/json?all=1', method: 'GET', agent: false,
      ca: readFileSync(certs.ca), cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey),
    }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    req.on('error', reject);
    req.end();
  });
  assert.equal(status, 200);
  const seen = requests().find((doc) => doc.RequestUri === '/v1.41/containers/json?all=1')!;
  assert.equal(seen.User, 'berth-test-client');
  assert.equal(seen.UserAuthNMethod, 'TLS');
  assert.match(Buffer.from(seen.RequestPeerCertificates[0], 'base64').toString(), /^-----BEGIN CERTIFICATE-----/);
});
