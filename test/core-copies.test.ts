// The daemon runs the bundled core (dist/bundle/) while third-party plugins and tests import tsc's
// copy (dist/): coded errors and the skip outcome are recognised across the two copies.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tscCopy from '../core/plugin-api.js';
import { REPO, apiRequest, onCleanup, startDaemon } from './helpers/daemon.js';

const FIXTURES = join(REPO, 'test/fixtures/plugins');

test("either copy's errors are instances of the other's classes, with the same status", async () => {
  const bundled = (await import(join(REPO, 'dist/bundle/core/plugin-api.js'))) as typeof tscCopy;
  assert.notEqual(bundled.BerthError, tscCopy.BerthError, 'two copies of the core');
  for (const [a, b] of [[tscCopy, bundled], [bundled, tscCopy]]) {
    const err = a.notFound('no such container: x');
    assert.ok(err instanceof b.BerthError);
    assert.equal(b.statusOf(err), 404);
    assert.ok(new a.SkipPluginError('not here') instanceof b.SkipPluginError);
    assert.ok(!(new a.SkipPluginError('not here') instanceof b.BerthError));
    assert.ok(!(err instanceof b.SkipPluginError));
    assert.ok(!(new Error('plain') instanceof b.BerthError));
    assert.equal(b.statusOf(new Error('plain')), 500);
  }
  // A subclass keeps the prototype-chain test.
  class Mine extends tscCopy.BerthError {}
  assert.ok(new Mine('E_CONFLICT', 'x') instanceof tscCopy.BerthError);
  assert.ok(!(tscCopy.conflict('x') instanceof Mine));
});

test("a plugin throwing tsc's copy of the core's errors gets their status; its SkipPluginError skips it", async (t) => {
  const d = await startDaemon({ args: ['--plugin-dir', join(FIXTURES, 'core-copy')] });
  onCleanup(t, () => d.cleanup());
  const missing = await apiRequest(d.socket, 'GET', '/copy-errors/missing');
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.json(), { message: 'no such thing: missing' });
  const taken = await apiRequest(d.socket, 'GET', '/copy-errors/taken');
  assert.equal(taken.status, 409);
  const job = await apiRequest(d.socket, 'GET', '/copy-errors/job');
  assert.equal(job.status, 404);
  assert.match(d.logs(), /"plugin":"copy-skip".*"reason":"not on this host".*"msg":"plugin skipped"/);
});
