// The example third-party authz plugin (test/fixtures/plugins/authz-readonly), loaded with
// --plugin-dir exactly as an operator would: request and response stages, config reloaded on SIGHUP.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { docker, makeTempDir, REPO, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';
import { waitFor } from './helpers/poll.js';

const FIXTURE = join(REPO, 'test/fixtures/plugins/authz-readonly');
let d: RunningDaemon;
let work: string;

/** daemon.json lists the chain (so SIGHUP can change it); the example's settings come with it. */
async function reloadWith(config: object): Promise<void> {
  writeFileSync(join(d.dir, 'daemon.json'), JSON.stringify({ 'authorization-plugins': ['authz-readonly'], ...config }));
  const before = d.logs().length;
  d.proc.kill('SIGHUP');
  await waitFor('the daemon to log "configuration reloaded" after SIGHUP', () => /configuration reloaded/.test(d.logs().slice(before)), {
    maxTries: 100, intervalMs: 100, detail: () => d.logs().slice(before),
  });
}

before(async () => {
  work = makeTempDir('berth-authz-example-');
  mkdirSync(join(work, 'daemon'));
  writeFileSync(join(work, 'daemon', 'daemon.json'), JSON.stringify({ 'authorization-plugins': ['authz-readonly'] }));
  d = await startDaemon({ dir: join(work, 'daemon'), args: ['--plugin-dir', FIXTURE] });
  await importBusybox(d.socket, work);
});
after(async () => {
  await reloadWith({ 'readonly-anonymous': false }).catch(() => undefined);
  await removeAllContainers(d.socket);
  await d?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

test('the example plugin is listed as a third-party authz plugin', async () => {
  const { runBerthd } = await import('./helpers/daemon.js');
  const r = await runBerthd(['plugins', '--plugin-dir', FIXTURE]);
  assert.match(r.stdout, /^authz-readonly\s+1\.0\.0\s+authz\s+-\s+dir$/m, r.stderr);
});

test('read-only clients may read but not write, and private containers are hidden from them', async () => {
  await docker(d.socket, ['create', '--name', 'secret', '--label', 'example.private=true', 'busybox', 'true']);
  await docker(d.socket, ['create', '--name', 'open', 'busybox', 'true']);
  await reloadWith({ 'readonly-anonymous': true });

  const run = await docker(d.socket, ['run', '--rm', 'busybox', 'true'], { timeoutMs: 60_000, expectCode: 'failure' });
  assert.match(run.stderr, /Error response from daemon: authorization denied by plugin authz-readonly: anonymous clients may only read \(POST \/containers\/create\)/);
  const ps = await docker(d.socket, ['ps', '-a', '--format', '{{.Names}}']);
  assert.equal(ps.stdout.split('\n').filter(Boolean).sort().join(','), 'open,secret', ps.stderr);
  await docker(d.socket, ['inspect', 'open']);
  const hidden = await docker(d.socket, ['inspect', 'secret'], { expectCode: 'failure' });
  assert.match(hidden.stderr, /authorization denied by plugin authz-readonly: this container is private/);
  assert.doesNotMatch(hidden.stdout, /example\.private/, 'the held response never left');

  // An empty chain (daemon.json, SIGHUP) turns authorization off without a restart.
  await reloadWith({ 'readonly-anonymous': true, 'authorization-plugins': [] });
  await docker(d.socket, ['run', '--rm', 'busybox', 'true'], { timeoutMs: 60_000 });
  await reloadWith({ 'readonly-anonymous': false });
  await docker(d.socket, ['rm', 'secret', 'open']);
});
