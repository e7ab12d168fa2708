// Registry credentials: htpasswd (Basic) and token (Bearer) auth on a real docker-registry, with
// docker login's real check, the X-Registry-Auth header, and bearer tokens cached per scope.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { apiRequest, docker, type DockerOptions, makeTempDir, type RunningDaemon, startDaemon } from './helpers/daemon.js';
import { startRegistry, type RunningRegistry } from './helpers/registry.js';
import { makeBusyboxRootfs } from './helpers/rootfs.js';
import { startTokenServer, type TokenServer } from './helpers/token-server.js';

const USER = 'tester';
const PASSWORD = 's3cret-pw';
let basic: RunningRegistry;
let tokens: TokenServer;
let bearer: RunningRegistry;
let d: RunningDaemon;
let work: string;

before(async () => {
  work = makeTempDir('berth-registry-auth-');
  basic = await startRegistry({ htpasswd: { user: USER, password: PASSWORD } });
  tokens = await startTokenServer(USER, PASSWORD);
  bearer = await startRegistry({ token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.certFile } });
  d = await startDaemon();
  await docker(d.socket, ['import', '-c', 'CMD ["sh"]', makeBusyboxRootfs(work).path, 'busybox:latest']);
});
after(async () => {
  // The CLI stored credentials in the shared test DOCKER_CONFIG: take them out again.
  for (const r of [basic, bearer]) if (r) await docker(d.socket, ['logout', r.host], { expectCode: 'any' });
  await d?.cleanup();
  await basic?.stop();
  await bearer?.stop();
  await tokens?.stop();
  rmSync(work, { recursive: true, force: true });
});

const login = (host: string, password: string, opts: DockerOptions = {}) =>
  docker(d.socket, ['login', '-u', USER, '--password-stdin', host], { input: `${password}\n`, ...opts });

test('htpasswd registry: no credentials, wrong password, then login, push and pull', async () => {
  const ref = `${basic.host}/t/busybox:1`;
  await docker(d.socket, ['tag', 'busybox', ref]);
  const anonymous = await docker(d.socket, ['pull', ref], { expectCode: 1 });
  assert.match(anonymous.stderr, new RegExp(`Error response from daemon: Head "http://${basic.host}/v2/t/busybox/manifests/1": no basic auth credentials`));
  const noPush = await docker(d.socket, ['push', ref], { expectCode: 1 });
  assert.match(noPush.stderr + noPush.stdout, /no basic auth credentials/);

  const bad = await login(basic.host, 'wrong', { expectCode: 1 });
  assert.match(bad.stderr, new RegExp(`login attempt to http://${basic.host}/v2/ failed with status: 401 Unauthorized`));
  const good = await login(basic.host, PASSWORD);
  assert.match(good.stdout, /Login Succeeded/);

  const push = await docker(d.socket, ['push', ref], { timeoutMs: 60_000 });
  assert.match(push.stdout, /1: digest: sha256:/);
  const id = JSON.parse((await docker(d.socket, ['image', 'inspect', ref])).stdout)[0].Id;
  await docker(d.socket, ['rmi', ref]);
  await docker(d.socket, ['pull', ref], { timeoutMs: 60_000 });
  assert.equal(JSON.parse((await docker(d.socket, ['image', 'inspect', ref])).stdout)[0].Id, id);
});

test('X-Registry-Auth (base64url JSON) carries credentials for a pull through the API', async () => {
  const auth = Buffer.from(JSON.stringify({ username: USER, password: PASSWORD, serveraddress: basic.host })).toString('base64url');
  const ok = await apiRequest(d.socket, 'POST', `/images/create?fromImage=${encodeURIComponent(`${basic.host}/t/busybox`)}&tag=1`, undefined, { 'X-Registry-Auth': auth });
  assert.equal(ok.status, 200);
  assert.match(ok.body, /"status":"Digest: sha256:/);
  const wrong = Buffer.from(JSON.stringify({ username: USER, password: 'nope' })).toString('base64url');
  const denied = await apiRequest(d.socket, 'POST', `/images/create?fromImage=${encodeURIComponent(`${basic.host}/t/busybox`)}&tag=1`, undefined, { 'X-Registry-Auth': wrong });
  assert.equal(denied.status, 500);
  assert.match(denied.json().message, /unauthorized: /);
});

test('token registry: login is checked by the token service; tokens are cached per scope', async () => {
  const ref = `${bearer.host}/t/busybox:1`;
  await docker(d.socket, ['tag', 'busybox', ref]);
  const anonymous = await docker(d.socket, ['pull', ref], { expectCode: 1 });
  assert.match(anonymous.stderr, new RegExp(`"http://${bearer.host}/v2/t/busybox/manifests/1": unauthorized: incorrect username or password`));

  const bad = await login(bearer.host, 'wrong', { expectCode: 1 });
  assert.match(bad.stderr, new RegExp(`Get "http://${bearer.host}/v2/": unauthorized: incorrect username or password`));
  await login(bearer.host, PASSWORD);

  const before = tokens.requests.length;
  await docker(d.socket, ['push', ref], { timeoutMs: 60_000 });
  const asked = tokens.requests.slice(before);
  // One token for the push's scope, however many requests the push made (HEAD, POST, PATCH, PUT...).
  assert.deepEqual(asked.map((q) => q.scopes.join(' ')), ['repository:t/busybox:pull,push']);
  assert.ok(asked.every((q) => q.user === USER));

  await docker(d.socket, ['rmi', ref]);
  const pull = await docker(d.socket, ['pull', ref], { timeoutMs: 60_000 });
  assert.match(pull.stdout, /Status: Downloaded newer image/);
  const pulls = tokens.requests.slice(before + 1).map((q) => q.scopes.join(' '));
  assert.deepEqual(pulls, ['repository:t/busybox:pull']);
});

test('an identity token (OAuth refresh token) in X-Registry-Auth is exchanged for a bearer token', async () => {
  const path = `/images/create?fromImage=${encodeURIComponent(`${bearer.host}/t/busybox`)}&tag=1`;
  const header = (o: object) => ({ 'X-Registry-Auth': Buffer.from(JSON.stringify(o)).toString('base64url') });
  const before = tokens.requests.length;
  const ok = await apiRequest(d.socket, 'POST', path, undefined, header({ identitytoken: `refresh-${USER}`, serveraddress: bearer.host }));
  assert.equal(ok.status, 200, ok.body);
  assert.match(ok.body, /"status":"Digest: sha256:/);
  assert.equal(tokens.requests[before].headers['content-type'], 'application/x-www-form-urlencoded');
  const bad = await apiRequest(d.socket, 'POST', path, undefined, header({ identitytoken: 'stolen' }));
  assert.equal(bad.status, 500);
  assert.match(bad.json().message, /unauthorized: incorrect username or password/);
});
