// Known authorization bypasses, table-driven, against a policy that refuses privileged
// containers on POST /containers/create and binds of /: odd encodings, dot and double slashes,
// case and version-prefix tricks, chunked, empty-length and oversized bodies, method overrides,
// smuggling. None may create the container; where a body is involved, a recording Docker-protocol
// plugin ahead of the policy must have seen the very body the handler would read.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { bodyOf, startFakeAuthzPlugin, type FakeAuthzPlugin } from './helpers/authz-plugin-server.js';
import { apiRequest, docker, makeTempDir, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';
import { chunkedRequest, jsonRequest, rawRequest } from './helpers/raw-http.js';

const POLICY = {
  default: 'allow',
  rules: [
    { name: 'no-privileged', action: 'deny', message: 'privileged containers are not allowed', methods: ['POST'], paths: ['/containers/create'], body: { privileged: true } },
    { name: 'no-root-bind', action: 'deny', message: 'binding / is not allowed', body: { binds: ['/'] } },
  ],
};
const PRIV = JSON.stringify({ Image: 'busybox', Cmd: ['true'], HostConfig: { Privileged: true } });

let d: RunningDaemon;
let work: string;
let recorder: FakeAuthzPlugin;

before(async () => {
  work = makeTempDir('berth-authz-bypass-');
  mkdirSync(join(work, 'plugins'));
  recorder = await startFakeAuthzPlugin(join(work, 'plugins', 'recorder.sock'));
  writeFileSync(join(work, 'policy.json'), JSON.stringify(POLICY));
  d = await startDaemon({
    args: [
      '--authorization-plugin', 'recorder', '--authorization-plugin', 'authz-policy',
      '--authz-plugin-dir', join(work, 'plugins'), '--authz-policy-file', join(work, 'policy.json'),
    ],
  });
  await importBusybox(d.socket, work);
});
after(async () => {
  await removeAllContainers(d.socket);
  await d?.cleanup();
  await recorder.stop();
  rmSync(work, { recursive: true, force: true });
});

interface Attempt {
  what: string;
  /** The raw request, for container name n. */
  send: (n: string) => string | Buffer | (string | Buffer)[];
  /** The status the daemon must answer. */
  status: number;
  /** The recording plugin must have seen exactly this body for the request naming n. */
  seen?: string;
}

const create = (target: string, body = PRIV, headers: string[] = []) => (n: string) => jsonRequest('POST', target.replace('NAME', n), body, headers);
const head = (lines: string[], body: string) => `${lines.join('\r\n')}\r\n\r\n${body}`;
const big = JSON.stringify({ Image: 'busybox', Labels: { pad: 'x'.repeat(4 << 20) }, HostConfig: { Privileged: true } });

const ATTEMPTS: Attempt[] = [
  { what: 'plain privileged create (the rule works)', send: create('/v1.41/containers/create?name=NAME'), status: 403, seen: PRIV },
  { what: 'chunked body, no Content-Length (CVE-2024-41110)', send: (n) => chunkedRequest('POST', `/v1.41/containers/create?name=${n}`, PRIV), status: 403, seen: PRIV },
  {
    what: 'Content-Length: 0 followed by the body on a keep-alive connection',
    send: (n) => head([`POST /v1.41/containers/create?name=${n} HTTP/1.1`, 'Host: berth', 'Content-Type: application/json', 'Content-Length: 0'], PRIV),
    status: 400,
  },
  { what: 'body over the 4 MiB limit with Privileged at the end', send: create('/v1.41/containers/create?name=NAME', big), status: 400 },
  { what: 'JSON sent as text/plain', send: (n) => chunkedRequest('POST', `/v1.41/containers/create?name=${n}`, PRIV, ['Content-Type: text/plain']), status: 403, seen: PRIV },
  { what: 'Content-Type in upper case with a charset', send: (n) => chunkedRequest('POST', `/v1.41/containers/create?name=${n}`, PRIV, ['Content-Type: APPLICATION/JSON; charset=utf-8']), status: 403, seen: PRIV },
  { what: 'HTTP/1.0 request', send: (n) => head([`POST /v1.41/containers/create?name=${n} HTTP/1.0`, 'Content-Type: application/json', `Content-Length: ${PRIV.length}`], PRIV), status: 403, seen: PRIV },
  { what: 'encoded slash %2F', send: create('/v1.41/containers%2Fcreate?name=NAME'), status: 400 },
  { what: 'encoded dot segments %2e%2e', send: create('/v1.41/containers/%2e%2e/containers/create?name=NAME'), status: 400 },
  { what: 'dot-dot after the version', send: create('/v1.41/../containers/create?name=NAME'), status: 400 },
  { what: 'dot segment', send: create('/v1.41/containers/./create?name=NAME'), status: 400 },
  { what: 'double slash after the version', send: create('/v1.41//containers/create?name=NAME'), status: 400 },
  { what: 'leading double slash', send: create('//v1.41/containers/create?name=NAME'), status: 400 },
  { what: 'trailing slash (normalized, then judged)', send: create('/v1.41/containers/create/?name=NAME'), status: 403, seen: PRIV },
  { what: 'percent-encoded letters (decoded once, then judged)', send: create('/v1.41/containers/crea%74e?name=NAME'), status: 403, seen: PRIV },
  { what: 'double encoding %252f', send: create('/v1.41/containers%252fcreate?name=NAME'), status: 400 },
  { what: 'encoded NUL', send: create('/v1.41/containers/create%00?name=NAME'), status: 400 },
  { what: 'upper-case path', send: create('/v1.41/CONTAINERS/create?name=NAME'), status: 404 },
  { what: 'upper-case version prefix', send: create('/V1.41/containers/create?name=NAME'), status: 404 },
  { what: 'two version prefixes', send: create('/v1.41/v1.40/containers/create?name=NAME'), status: 400 },
  { what: 'zero-padded version (canonicalized, then judged)', send: create('/v01.041/containers/create?name=NAME'), status: 403, seen: PRIV },
  { what: 'version without a minor', send: create('/v1/containers/create?name=NAME'), status: 400 },
  { what: 'three-part version', send: create('/v1.41.0/containers/create?name=NAME'), status: 400 },
  { what: 'unknown future version', send: create('/v1.99/containers/create?name=NAME'), status: 400 },
  { what: 'query string ending in /auth', send: create('/v1.41/containers/create?name=NAME&x=/auth'), status: 403, seen: PRIV },
  { what: 'path parameter after ;', send: create('/v1.41/containers/create;x=1?name=NAME'), status: 404 },
  { what: 'fragment in the target', send: create('/v1.41/containers/create#frag?name=NAME'), status: 400 },
  { what: 'absolute-form target', send: create('http://berth/v1.41/containers/create?name=NAME'), status: 400 },
  { what: 'X-HTTP-Method-Override', send: (n) => jsonRequest('PUT', `/v1.41/containers/create?name=${n}`, PRIV, ['X-HTTP-Method-Override: POST']), status: 400 },
  { what: 'X-HTTP-Method on a POST', send: create('/v1.41/containers/create?name=NAME', PRIV, ['X-HTTP-Method: GET']), status: 400 },
  { what: 'X-Method-Override', send: create('/v1.41/containers/create?name=NAME', PRIV, ['X-Method-Override: POST']), status: 400 },
  {
    what: 'two Content-Length headers',
    send: (n) => head([`POST /v1.41/containers/create?name=${n} HTTP/1.1`, 'Host: berth', 'Content-Type: application/json', 'Content-Length: 0', `Content-Length: ${PRIV.length}`], PRIV),
    status: 400,
  },
  {
    what: 'Content-Length and Transfer-Encoding together',
    send: (n) => head([`POST /v1.41/containers/create?name=${n} HTTP/1.1`, 'Host: berth', 'Content-Type: application/json', 'Content-Length: 0', 'Transfer-Encoding: chunked'], `${PRIV.length.toString(16)}\r\n${PRIV}\r\n0\r\n\r\n`),
    status: 400,
  },
  { what: 'key spelled with a JSON escape', send: create('/v1.41/containers/create?name=NAME', PRIV.replace('"Privileged"', '"\\u0050rivileged"')), status: 403 },
  { what: 'duplicate key, true last', send: create('/v1.41/containers/create?name=NAME', PRIV.replace('"Privileged":true', '"Privileged":false,"Privileged":true')), status: 403 },
  { what: 'truthy non-boolean Privileged', send: create('/v1.41/containers/create?name=NAME', PRIV.replace('"Privileged":true', '"Privileged":1')), status: 403 },
  { what: '__proto__ key carrying Privileged', send: create('/v1.41/containers/create?name=NAME', JSON.stringify({ Image: 'busybox' }).replace('}', ',"HostConfig":{"__proto__":{"Privileged":true}}}')), status: 400 },
  { what: '__proto__ key spelled with escapes', send: create('/v1.41/containers/create?name=NAME', JSON.stringify({ Image: 'busybox' }).replace('}', ',"HostConfig":{"\\u005f_proto__":{"Privileged":true}}}')), status: 400 },
  { what: 'bind of / spelled /tmp/..', send: create('/v1.41/containers/create?name=NAME', JSON.stringify({ Image: 'busybox', HostConfig: { Binds: ['/tmp/..:/host'] } })), status: 403 },
  {
    what: 'Upgrade request to create (the hijack path)',
    send: create('/v1.41/containers/create?name=NAME', PRIV, ['Connection: Upgrade', 'Upgrade: tcp']),
    status: 403,
    seen: PRIV,
  },
  {
    what: 'Upgrade request with a chunked body',
    send: (n) => chunkedRequest('POST', `/v1.41/containers/create?name=${n}`, PRIV, ['Content-Type: application/json', 'Upgrade: tcp']).replace('Connection: close', 'Connection: Upgrade'),
    status: 403,
    seen: PRIV,
  },
];

test('the raw requests are well formed: the same framing without Privileged creates a container', async () => {
  const plain = JSON.stringify({ Image: 'busybox', Cmd: ['true'] });
  const r = await rawRequest(d.socket, chunkedRequest('POST', '/v1.41/containers/create?name=control', plain));
  assert.equal(r.status, 201, r.text);
  await docker(d.socket, ['rm', 'control']);
});

test(`${ATTEMPTS.length} bypass attempts: none reaches the handler`, async (t) => {
  assert.ok(ATTEMPTS.length >= 20);
  for (const [i, a] of ATTEMPTS.entries()) {
    await t.test(a.what, async () => {
      const n = `bypass${i}`;
      recorder.calls.length = 0;
      const r = await rawRequest(d.socket, a.send(n));
      assert.equal(r.status, a.status, `${a.what}: ${r.text.slice(0, 400)}`);
      assert.equal((await apiRequest(d.socket, 'GET', `/containers/${n}/json`)).status, 404, `${a.what}: container ${n} must not exist`);
      if (a.seen !== undefined) {
        const call = recorder.calls.find((c) => c.method === '/AuthZPlugin.AuthZReq' && String(c.doc.RequestUri).includes(`name=${n}`));
        assert.ok(call, `${a.what}: the recording plugin saw the request`);
        assert.equal(bodyOf(call.doc), a.seen, `${a.what}: the plugin saw the body the handler would read`);
      }
    });
  }
  assert.equal((await docker(d.socket, ['ps', '-aq'])).stdout.trim(), '', 'no container exists');
});
