// Docker's reference normalisation, as the CLI and dockerd apply it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalString, familiarString, normalize } from '../lib/image-reference.js';

test('names are normalised as dockerd does', () => {
  const cases: [string, string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['me/app', 'docker.io/me/app:latest', 'me/app:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['index.docker.io/library/busybox:2', 'docker.io/library/busybox:2', 'busybox:2'],
    ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
    ['localhost:5000/team/tool:1.0', 'localhost:5000/team/tool:1.0', 'localhost:5000/team/tool:1.0'],
    ['127.0.0.1:5000/trace/busybox:1', '127.0.0.1:5000/trace/busybox:1', '127.0.0.1:5000/trace/busybox:1'],
    [`app@sha256:${'a'.repeat(64)}`, `docker.io/library/app@sha256:${'a'.repeat(64)}`, `app@sha256:${'a'.repeat(64)}`],
  ];
  for (const [input, canonical, familiar] of cases) {
    const r = normalize(input);
    assert.equal(canonicalString(r), canonical, input);
    assert.equal(familiarString(r), familiar, input);
  }
});

test('invalid references are refused with dockerd\'s wording', () => {
  assert.throws(() => normalize('Busybox'), /invalid reference format: repository name must be lowercase/);
  assert.throws(() => normalize('busybox:bad tag'), /invalid reference format: invalid tag/);
  assert.throws(() => normalize('a//b'), /invalid reference format/);
  assert.throws(() => normalize('app@sha256:123'), /invalid digest/);
  assert.throws(() => normalize(''), /invalid reference format/);
  assert.throws(() => normalize(`${'a'.repeat(256)}`), /must not be more than 255 characters/);
});
