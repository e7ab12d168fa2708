// Containers before they run: docker create, ps, inspect, rename, rm, container prune, and the
// create errors dockerd gives (names, empty config, content type, missing image).
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { apiRequest, docker, makeTempDir, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { importBusybox } from './helpers/busybox.js';

let d: RunningDaemon;
let work: string;
before(async () => {
  work = makeTempDir('berth-containers-');
  d = await startDaemon();
  await importBusybox(d.socket, work, { changes: ['CMD ["sh"]', 'ENV A=1 B=2', 'LABEL from=image'] });
});
after(async () => {
  await d?.cleanup();
  // The daemon restarted on the first one's folders: they are removed here, not by its cleanup.
  if (d) rmSync(d.dir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const cli = async (args: string[]) => {
  const r = await docker(d.socket, args);
  return r.stdout.trim();
};

test('docker create makes a container from the image: config merged, read-write layer, persisted', async () => {
  const id = await cli(['create', '--name', 'web', '-e', 'B=3', '-l', 'tier=front', 'busybox', 'echo', 'hi there']);
  assert.match(id, /^[a-f0-9]{64}$/);
  const c = JSON.parse(await cli(['inspect', 'web']))[0];
  assert.equal(c.Id, id);
  assert.equal(c.Name, '/web');
  assert.equal(c.Path, 'echo');
  assert.deepEqual(c.Args, ['hi there']);
  assert.deepEqual(c.Config.Env.sort(), ['A=1', 'B=3']);
  assert.deepEqual(c.Config.Labels, { from: 'image', tier: 'front' });
  assert.equal(c.State.Status, 'created');
  assert.equal(c.Image, (await apiRequest(d.socket, 'GET', '/images/busybox/json')).json().Id);
  assert.ok(existsSync(join(d.dataRoot, 'containers', id, 'config.v2.json')));
  assert.ok(existsSync(join(d.dataRoot, 'overlay', id)), 'a read-write layer exists for it');
  const ps = await cli(['ps', '-a', '--format', '{{.Names}}|{{.Image}}|{{.Command}}|{{.Status}}']);
  assert.equal(ps, 'web|busybox|"echo hi there"|Created');
  assert.equal(await cli(['ps', '-q']), '', 'not running: only ps -a shows it');
});

test('create errors: taken name 409, bad name 400, empty config 400, wrong content type 400, missing image 404', async () => {
  const taken = await docker(d.socket, ['create', '--name', 'web', 'busybox'], { expectCode: 'failure' });
  assert.match(taken.stderr, /Conflict\. The container name "\/web" is already in use by container "[a-f0-9]{64}"\. You have to remove \(or rename\) that container to be able to reuse that name\./);
  const bad = await apiRequest(d.socket, 'POST', '/v1.41/containers/create?name=bad/name', { Image: 'busybox' });
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.json(), { message: 'Invalid container name (bad/name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed' });
  const empty = await apiRequest(d.socket, 'POST', '/v1.41/containers/create', {});
  assert.equal(empty.status, 400);
  assert.deepEqual(empty.json(), { message: 'Config cannot be empty in order to create a container' });
  const type = await apiRequest(d.socket, 'POST', '/v1.41/containers/create', '{}', { 'Content-Type': 'text/plain' });
  assert.equal(type.status, 400);
  assert.deepEqual(type.json(), { message: "Content-Type specified (text/plain) must be 'application/json'" });
  const missing = await apiRequest(d.socket, 'POST', '/v1.41/containers/create', { Image: 'nosuch:1' });
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.json(), { message: 'No such image: nosuch:1' });
});

test('two concurrent creates with one name: exactly one wins', async () => {
  const results = await Promise.all([0, 1, 2, 3].map(() => apiRequest(d.socket, 'POST', '/containers/create?name=race', { Image: 'busybox' })));
  assert.deepEqual(results.map((r) => r.status).sort(), [201, 409, 409, 409]);
  await cli(['rm', 'race']);
});

test('docker ps filters and docker rename', async () => {
  await cli(['create', '--name', 'other', '-l', 'tier=back', 'busybox']);
  assert.equal(await cli(['ps', '-a', '--filter', 'label=tier=back', '--format', '{{.Names}}']), 'other');
  assert.equal(await cli(['ps', '-a', '--filter', 'name=^we', '--format', '{{.Names}}']), 'web');
  assert.equal(await cli(['ps', '-a', '--filter', 'status=created', '-q']).then((o) => o.split('\n').length), 2);
  assert.equal(await cli(['ps', '-a', '--filter', 'ancestor=busybox', '-q']).then((o) => o.split('\n').length), 2);
  const bad = await docker(d.socket, ['ps', '--filter', 'status=sleeping'], { expectCode: 'failure' });
  assert.match(bad.stderr, /Invalid filter 'status=sleeping'/);
  await cli(['rename', 'other', 'renamed']);
  assert.equal(JSON.parse(await cli(['inspect', 'renamed']))[0].Name, '/renamed');
  const gone = await docker(d.socket, ['inspect', '--type', 'container', 'other'], { expectCode: 'failure' });
  assert.match(gone.stderr, /No such container: other/);
  const until = String(Math.floor(Date.now() / 1000) + 1);
  const events = await cli(['events', '--since', '1', '--until', until, '--filter', 'type=container', '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
  for (const line of ['create web', 'create other', 'rename renamed']) assert.ok(events.split('\n').includes(line), `${line} in:\n${events}`);
});

test('an image used by a container cannot be removed without -f', async () => {
  const r = await docker(d.socket, ['rmi', 'busybox'], { expectCode: 'failure' });
  assert.match(r.stderr, /conflict: unable to (remove repository reference|delete)/);
});

test('containers survive a daemon restart', async (t) => {
  assert.equal(await d.stop(), 0);
  d = await startDaemon({ dir: d.dir });
  t.diagnostic('restarted');
  assert.equal(await cli(['ps', '-a', '--format', '{{.Names}}']).then((o) => o.split('\n').sort().join(',')), 'renamed,web');
  const info = (await apiRequest(d.socket, 'GET', '/info')).json();
  assert.equal(info.Containers, 2);
  assert.equal(info.ContainersStopped, 2);
});

test('docker rm and docker container prune remove containers, their layers and records, with events', async () => {
  const id = JSON.parse(await cli(['inspect', 'web']))[0].Id;
  await cli(['rm', 'web']);
  assert.equal(existsSync(join(d.dataRoot, 'containers', id)), false);
  assert.equal(existsSync(join(d.dataRoot, 'overlay', id)), false);
  const missing = await docker(d.socket, ['rm', 'web'], { expectCode: 'failure' });
  assert.match(missing.stderr, /No such container: web/);
  const pruned = await cli(['container', 'prune', '-f']);
  assert.match(pruned, /Deleted Containers:\n[a-f0-9]{64}/);
  assert.equal(await cli(['ps', '-aq']), '');
  const until = String(Math.floor(Date.now() / 1000) + 1);
  const events = await cli(['events', '--since', '1', '--until', until, '--filter', 'type=container', '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
  for (const line of ['destroy web', 'destroy renamed']) assert.ok(events.split('\n').includes(line), `${line} in:\n${events}`);
});

test('docker ps -s and inspect -s report the read-write layer and the virtual size', async () => {
  await docker(d.socket, ['run', '--name', 'sized', 'busybox', 'sh', '-c', 'busybox head -c 300000 /dev/zero > /big'], { timeoutMs: 60_000 });
  const size = await cli(['ps', '-a', '-s', '--filter', 'name=sized', '--format', '{{.Size}}']);
  // The CLI prints "SizeRw (virtual SizeRootFs)" in decimal units.
  assert.match(size, /^3\d\dkB \(virtual \d+(\.\d+)?[kM]B\)$/, size);
  const inspected = JSON.parse(await cli(['inspect', '-s', 'sized']))[0];
  assert.ok(inspected.SizeRw >= 300000 && inspected.SizeRw < 400000, String(inspected.SizeRw));
  assert.ok(inspected.SizeRootFs > inspected.SizeRw, 'the image counts in the virtual size');
  assert.equal(JSON.parse(await cli(['inspect', 'sized']))[0].SizeRw, undefined, 'no sizes unless asked');
  await cli(['rm', 'sized']);
});
