// The request target as the authorization stage and the router both see it: decoded once,
// normalized, or refused when two readers could disagree. And the policy's matching rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pluginSchema } from '../core/plugins/tools.js';
import { parseTarget } from '../plugins/api-server/request-target.js';
import { compilePolicy, pathPattern } from '../plugins/authz-policy/policy.js';
import { normalizeImage } from '../plugins/authz-policy/body-predicates.js';
import type { AuthzRequest } from '../plugins/authz/service.js';

test('targets are decoded once and normalized', () => {
  const cases: [string, string, string | undefined, string][] = [
    ['/v1.41/containers/json?all=1', '/containers/json', '1.41', 'all=1'],
    ['/containers/json', '/containers/json', undefined, ''],
    ['/v1.41/containers/json/', '/containers/json', '1.41', ''],
    ['/v01.041/containers/json', '/containers/json', '1.41', ''],
    ['/v1.41/containers/crea%74e', '/containers/create', '1.41', ''],
    ['/v1.41/images/localhost:5000/a/b/json', '/images/localhost:5000/a/b/json', '1.41', ''],
    ['/v1.41/containers/create?x=/auth&y=%2F', '/containers/create', '1.41', 'x=/auth&y=%2F'],
    ['/', '/', undefined, ''],
    // Names dockerd accepts with a space (docker-py, dockerode encode it): one segment, as data.
    ['/v1.41/networks/test%2001', '/networks/test 01', '1.41', ''],
    ['/networks/a%20b/connect', '/networks/a b/connect', undefined, ''],
  ];
  for (const [url, path, version, query] of cases) {
    assert.deepEqual(parseTarget(url), { path, version, query }, url);
  }
});

test('ambiguous targets are refused with a 400 naming the problem', () => {
  const refused: [string, RegExp][] = [
    ['/v1.41/containers%2Fcreate', /encoded slashes/],
    ['/v1.41/containers%5ccreate', /encoded slashes/],
    ['/v1.41/x%00', /encoded slashes, backslashes or NUL/],
    ['/v1.41/containers%252fcreate', /double encoding/],
    ['/v1.41/containers/%2e%2e/create', /dot segments/],
    ['/v1.41/../containers/create', /dot segments/],
    ['/v1.41/./containers/create', /dot segments/],
    ['/v1.41//containers/create', /empty path segment/],
    ['//containers/create', /empty path segment/],
    ['/v1/containers/create', /malformed API version/],
    ['/v1.41.0/containers/create', /malformed API version/],
    ['/v1.41', /malformed API version/],
    ['/v1.41/v1.40/containers/create', /more than one API version/],
    ['/v12345.1/x', /malformed API version/],
    ['/v1.41/containers/create#x', /alphabet/],
    ['/v1.41/containers\\create', /alphabet/],
    ['/v1.41/containers/%E2%82%AC', /alphabet/],
    ['/v1.41/networks/a%3Fb', /alphabet/],
    ['/v1.41/networks/a%23b', /alphabet/],
    ['/v1.41/networks/a%09b', /alphabet/],
    ['/v1.41/networks/%20/..', /dot segments/],
    ['/v1.41/networks/test%2001%2f..%2fx', /encoded slashes/],
    ['/v1.41/bad%zz', /bad percent-encoding/],
    ['http://host/v1.41/containers/create', /must start with \//],
    ['*', /must start with \//],
  ];
  for (const [url, why] of refused) {
    assert.throws(() => parseTarget(url), (err: any) => err.code === 'E_INVALID' && why.test(err.message), url);
  }
});

type Over = Partial<Omit<AuthzRequest, 'body'>> & { body?: unknown };
const request = ({ body, ...over }: Over): AuthzRequest => {
  const text = body === undefined ? '' : JSON.stringify(body);
  return {
    user: '', authMethod: '', transport: 'unix', peerCertificates: [], method: 'POST', path: '/containers/create', apiVersion: '1.41',
    uri: '/v1.41/containers/create', query: {}, headers: {}, bodyStreamed: false, hijacked: false,
    ...over,
    body: Buffer.from(text),
    json: () => (text ? JSON.parse(text) : undefined),
  } as AuthzRequest;
};

test('path patterns: * is one segment, ** any', () => {
  assert.ok(pathPattern('/containers/*/exec').test('/containers/abc/exec'));
  assert.ok(!pathPattern('/containers/*/exec').test('/containers/a/b/exec'));
  assert.ok(pathPattern('/images/**').test('/images/a/b/json'));
  assert.ok(!pathPattern('/containers/create').test('/containers/createx'));
  assert.ok(!pathPattern('/a.b').test('/aXb'), 'dots are literal');
});

test('image names are compared in their full form', () => {
  assert.equal(normalizeImage('busybox'), 'docker.io/library/busybox:latest');
  assert.equal(normalizeImage('user/app:1'), 'docker.io/user/app:1');
  assert.equal(normalizeImage('localhost:5000/app'), 'localhost:5000/app:latest');
  assert.equal(normalizeImage('trusted/*'), 'docker.io/trusted/*');
});

test('rules: users, HEAD under GET, first match wins, body predicates as handlers read them', async () => {
  const policy = compilePolicy({
    default: 'deny',
    defaultMessage: 'not in the policy',
    rules: [
      { name: 'admin', action: 'allow', users: ['alice'] },
      { name: 'reads', action: 'allow', methods: ['GET'] },
      { name: 'pid', action: 'deny', message: 'no host pid', body: { fields: { 'HostConfig.PidMode': 'host' } } },
      { name: 'caps', action: 'deny', body: { capAdd: ['sys_admin'] } },
      { name: 'creates', action: 'allow', paths: ['/containers/create'] },
    ],
  }, 'test.json', pluginSchema);
  const decide = (r: Over) => policy.evaluate(request(r), []);
  assert.deepEqual(await decide({ user: 'alice', body: { HostConfig: { PidMode: 'host' } } }), { allow: true });
  assert.deepEqual(await decide({ method: 'HEAD', path: '/_ping' }), { allow: true });
  assert.deepEqual(await decide({ body: { HostConfig: { PidMode: 'host' } } }), { allow: false, msg: 'no host pid (rule pid)' });
  assert.deepEqual(await decide({ body: { HostConfig: { CapAdd: ['CAP_SYS_ADMIN'] } } }), { allow: false, msg: 'denied (rule caps)' });
  assert.deepEqual(await decide({ body: { Image: 'busybox' } }), { allow: true });
  assert.deepEqual(await decide({ method: 'DELETE', path: '/containers/x' }), { allow: false, msg: 'not in the policy' });
});

test('an invalid policy is refused with errors naming the rules', () => {
  assert.throws(() => compilePolicy({ default: 'allow', rules: [{ name: 'a', action: 'deny', paths: ['containers'] }, { name: 'a', action: 'deny' }] }, 'p.json', pluginSchema),
    /invalid policy p\.json: rule "a" \(rules\[0\]\): paths\.0: must match pattern/);
  assert.throws(() => compilePolicy({ default: 'allow', rules: [{ name: 'a', action: 'deny' }, { name: 'a', action: 'allow' }] }, 'p.json', pluginSchema),
    /rule "a" \(rules\[1\]\): name: used twice/);
  assert.throws(() => compilePolicy({ rules: [] }, 'p.json', pluginSchema), /default: is required/);
  assert.throws(() => compilePolicy({ default: 'allow', rules: [{ name: 'x', action: 'deny', body: { privilegd: true } }] }, 'p.json', pluginSchema),
    /rule "x" \(rules\[0\]\): body\.privilegd: unknown key/);
});
