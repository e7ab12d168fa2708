// The registry plugin's small parsers: WWW-Authenticate challenges, X-Registry-Auth, which hosts
// are insecure, platform selection in a list, the progress bar text, and search terms.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeAuthHeader } from '../lib/registry-auth.js';
import { parseChallenges } from '../plugins/registry/challenge.js';
import { endpointsFor, isInsecure } from '../plugins/registry/endpoints.js';
import { parsePlatform, selectPlatform } from '../plugins/registry/manifest.js';
import { humanSize, progressBar, progressReporter } from '../plugins/registry/progress.js';
import { pullReference } from '../plugins/registry/pull-image.js';
import { splitTerm } from '../plugins/registry/search.js';

test('WWW-Authenticate: Basic and Bearer challenges with quoted parameters', () => {
  assert.deepEqual(parseChallenges('Basic realm="test-realm"'), [{ scheme: 'basic', params: { realm: 'test-realm' } }]);
  assert.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push"'), [{
    scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull,push' },
  }]);
  assert.deepEqual(parseChallenges(['Bearer realm="r", error="insufficient_scope"', 'Basic realm=x']).map((c) => c.scheme), ['bearer', 'basic']);
  assert.deepEqual(parseChallenges(undefined), []);
});

test('X-Registry-Auth: base64url or base64 JSON; auth field split; garbage is no credentials', () => {
  const enc = (o: object, f: BufferEncoding) => Buffer.from(JSON.stringify(o)).toString(f);
  assert.deepEqual(decodeAuthHeader(enc({ username: 'u', password: 'p?>~', serveraddress: 'h:1' }, 'base64url')), { username: 'u', password: 'p?>~', serveraddress: 'h:1' });
  assert.deepEqual(decodeAuthHeader(enc({ username: 'u', password: 'p?>~' }, 'base64')), { username: 'u', password: 'p?>~' });
  assert.deepEqual(decodeAuthHeader(enc({ auth: Buffer.from('me:pw:with:colons').toString('base64') }, 'base64url')), { username: 'me', password: 'pw:with:colons', auth: Buffer.from('me:pw:with:colons').toString('base64') });
  assert.deepEqual(decodeAuthHeader(enc({ identitytoken: 'tok' }, 'base64url')), { identitytoken: 'tok' });
  assert.deepEqual(decodeAuthHeader('e30='), {});
  assert.equal(decodeAuthHeader('!!not base64 json'), undefined);
  assert.equal(decodeAuthHeader(undefined), undefined);
});

test('plain HTTP only for 127.0.0.0/8, localhost and --insecure-registry entries (host or CIDR)', () => {
  assert.equal(isInsecure('127.0.0.1:5000', []), true);
  assert.equal(isInsecure('127.1.2.3', []), true);
  assert.equal(isInsecure('localhost:5000', []), true);
  assert.equal(isInsecure('registry.example.com', []), false);
  assert.equal(isInsecure('10.1.2.3:5000', []), false);
  assert.equal(isInsecure('10.1.2.3:5000', ['10.0.0.0/8']), true);
  assert.equal(isInsecure('reg.local:5000', ['reg.local:5000']), true);
  assert.equal(isInsecure('reg.local:5001', ['reg.local:5000']), false);
  const opts = { insecure: [], mirrors: ['https://mirror.example'], certsDir: '/nonexistent' };
  assert.deepEqual(endpointsFor('reg.example:443', opts, true)[0].bases.map(String), ['https://reg.example/']);
  assert.deepEqual(endpointsFor('127.0.0.1:5000', opts, true)[0].bases.map(String), ['https://127.0.0.1:5000/', 'http://127.0.0.1:5000/']);
  assert.deepEqual(endpointsFor('docker.io', opts, true).map((e) => [String(e.bases[0]), e.mirror]), [['https://mirror.example/', true], ['https://registry-1.docker.io/', false]]);
  assert.deepEqual(endpointsFor('docker.io', opts, false).map((e) => String(e.bases[0])), ['https://registry-1.docker.io/']);
});

test('a manifest list entry is chosen by os, architecture and variant', () => {
  const list = {
    manifests: [
      { mediaType: 'm', digest: 'sha256:a', size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
      { mediaType: 'm', digest: 'sha256:b', size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      { mediaType: 'm', digest: 'sha256:c', size: 1, platform: { os: 'linux', architecture: 'amd64' } },
      { mediaType: 'm', digest: 'sha256:d', size: 1, platform: { os: 'windows', architecture: 'amd64' } },
    ],
  };
  assert.equal(selectPlatform(list, parsePlatform('linux/amd64'))?.digest, 'sha256:c');
  assert.equal(selectPlatform(list, parsePlatform('linux/arm64'))?.digest, 'sha256:b');
  assert.equal(selectPlatform(list, parsePlatform('linux/arm/v7'))?.digest, 'sha256:a');
  assert.equal(selectPlatform(list, parsePlatform('linux/arm/v6')), undefined);
  assert.equal(selectPlatform(list, parsePlatform('windows/amd64'))?.digest, 'sha256:d');
});

test('progress text as dockerd writes it', () => {
  assert.equal(humanSize(124), '124B');
  assert.equal(humanSize(19968), '19.97kB');
  assert.equal(humanSize(1984172), '1.984MB');
  assert.equal(progressBar(124, 124), `[${'='.repeat(50)}>]     124B/124B`);
  assert.equal(progressBar(19968, 1984172), `[>${' '.repeat(50)}]  19.97kB/1.984MB`);
  assert.equal(progressBar(2097152, 1984172), `[${'='.repeat(50)}>]  2.097MB`);
});

test('progress lines at most every 1% and every 100 ms, and always the last one', () => {
  const lines: { progressDetail: { current: number } }[] = [];
  let clock = 0;
  const report = progressReporter((m) => lines.push(m as (typeof lines)[number]), 'abc', 'Downloading', 1000, () => clock);
  for (let n = 1; n <= 1000; n++) {
    clock += 1; // 1 ms per byte: 10 ms per percent
    report(n);
  }
  const at = lines.map((l) => l.progressDetail.current);
  assert.equal(at[0], 1);
  assert.equal(at.at(-1), 1000, 'the end is always reported');
  assert.ok(at.length >= 10 && at.length <= 12, `about one line per 100 ms: ${at.length}`);
  clock += 1000;
  report(1000);
  assert.equal(lines.length, at.length + 1, 'the total again is reported again (a retried layer)');
  lines.length = 0;
  const fast = progressReporter((m) => lines.push(m as (typeof lines)[number]), 'abc', 'Extracting', 1000, () => (clock += 200));
  for (let n = 1; n <= 1000; n++) fast(n);
  assert.equal(lines.length, 101, 'no more than one line per percent (0 to 100) however slow the reads');
});

test('fromImage and tag combine as dockerd does; search terms name their registry', () => {
  assert.deepEqual(pullReference('busybox', 'latest'), { name: 'docker.io/library/busybox', tag: 'latest' });
  assert.deepEqual(pullReference('127.0.0.1:5000/t/b', `sha256:${'a'.repeat(64)}`), { name: '127.0.0.1:5000/t/b', digest: `sha256:${'a'.repeat(64)}` });
  assert.deepEqual(pullReference('127.0.0.1:5000/t/b'), { name: '127.0.0.1:5000/t/b' });
  assert.throws(() => pullReference('Busybox', 'latest'), /repository name must be lowercase/);
  assert.deepEqual(splitTerm('127.0.0.1:5000/busy'), ['127.0.0.1:5000', 'busy']);
  assert.deepEqual(splitTerm('busybox'), ['docker.io', 'busybox']);
  assert.deepEqual(splitTerm('me/app'), ['docker.io', 'me/app']);
});
