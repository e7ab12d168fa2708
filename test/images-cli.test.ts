// Images with the real docker CLI: import, images, inspect, history, tag, rmi, prune, save, load.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { apiRequest, docker, makeTempDir, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { makeBusyboxRootfs, type RootfsTar } from './helpers/rootfs.js';

let d: RunningDaemon;
let work: string;
let rootfs: RootfsTar;
const since = Math.floor(Date.now() / 1000) - 1;

before(async () => {
  work = makeTempDir('berth-images-');
  rootfs = makeBusyboxRootfs(work);
  d = await startDaemon();
});
after(async () => {
  await d?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

const cli = async (args: string[]) => {
  const r = await docker(d.socket, args, { timeoutMs: 120_000 });
  return r.stdout;
};
const api = async (method: string, path: string) => (await apiRequest(d.socket, method, path)).json();

test('docker import of a busybox root file system shows in docker images with the right size', async () => {
  const out = await cli(['import', '-c', 'CMD ["sh"]', '-m', 'from the test', rootfs.path, 'busybox:test']);
  const id = out.trim();
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  const listed = await cli(['images', '--format', '{{.Repository}}|{{.Tag}}|{{.ID}}|{{.Size}}']);
  const row = listed.trim().split('\n').find((l) => l.startsWith('busybox|test|'));
  assert.ok(row, listed);
  assert.equal(row!.split('|')[2], id.slice(7, 19));
  // The CLI prints decimal units with three significant digits (1.98MB for busybox).
  assert.equal(row!.split('|')[3], `${(rootfs.contentSize / 1e6).toPrecision(3)}MB`);
  const summary = (await api('GET', '/images/json')).find((i: { Id: string }) => i.Id === id);
  assert.equal(summary.Size, rootfs.contentSize);
  assert.deepEqual(summary.RepoTags, ['busybox:test']);
});

test('the layer diffID is the sha256 of the uncompressed layer tar, and the config holds the changes', async () => {
  const inspect = JSON.parse(await cli(['image', 'inspect', 'busybox:test']))[0];
  assert.deepEqual(inspect.RootFS, { Type: 'layers', Layers: [rootfs.digest] });
  assert.deepEqual(inspect.Config.Cmd, ['sh']);
  assert.equal(inspect.Comment, 'from the test');
  assert.equal(inspect.Os, 'linux');
  assert.equal(inspect.Size, rootfs.contentSize);
  // The image ID is the sha256 of the configuration that docker save writes out.
  assert.match(inspect.Id, /^sha256:/);
});

test('docker history shows the imported layer', async () => {
  const out = await cli(['history', '--no-trunc', '--format', '{{.ID}}|{{.Size}}|{{.Comment}}', 'busybox:test']);
  const id = (await api('GET', '/images/busybox:test/json')).Id;
  assert.equal(out.trim(), `${id}|${(rootfs.contentSize / 1e6).toPrecision(3)}MB|from the test`);
});

test('docker tag adds a name; rmi of one name only untags; rmi by ID needs -f when several names remain', async () => {
  const id = (await api('GET', '/images/busybox:test/json')).Id;
  await cli(['tag', 'busybox:test', 'localhost:5000/team/tool:1.0']);
  await cli(['tag', id.slice(7, 19), 'another']);
  const tags = (await api('GET', `/images/${id}/json`)).RepoTags.sort();
  assert.deepEqual(tags, ['another:latest', 'busybox:test', 'localhost:5000/team/tool:1.0']);
  assert.equal((await cli(['rmi', 'localhost:5000/team/tool:1.0'])).trim(), 'Untagged: localhost:5000/team/tool:1.0');
  const refused = await docker(d.socket, ['rmi', id.slice(7, 19)], { expectCode: 'failure' });
  assert.match(refused.stderr, /Error response from daemon: conflict: unable to delete [a-f0-9]{12} \(must be forced\) - image is referenced in multiple repositories/);
  assert.equal((await cli(['rmi', 'another'])).trim(), 'Untagged: another:latest');
  assert.deepEqual((await api('GET', `/images/${id}/json`)).RepoTags, ['busybox:test']);
});

test('a missing image is a 404 with dockerd\'s message', async () => {
  const r = await apiRequest(d.socket, 'GET', '/images/nosuch:1/json');
  assert.equal(r.status, 404);
  assert.deepEqual(r.json(), { message: 'No such image: nosuch:1' });
  const rmi = await docker(d.socket, ['rmi', 'nosuch:1'], { expectCode: 'failure' });
  assert.match(rmi.stderr, /Error response from daemon: No such image: nosuch:1/);
  const bad = await apiRequest(d.socket, 'POST', '/images/busybox:test/tag?repo=UPPER&tag=x');
  assert.equal(bad.status, 400);
  assert.match(bad.json().message, /invalid reference format: repository name must be lowercase/);
});

test('docker images filters: dangling, reference, label, before and since', async () => {
  const labelled = (await cli(['import', '-c', 'LABEL tier=test', rootfs.path])).trim();
  const dangling = (await cli(['images', '-q', '--no-trunc', '--filter', 'dangling=true'])).trim().split('\n');
  assert.deepEqual(dangling, [labelled], 'the untagged import is dangling');
  const byLabel = (await cli(['images', '-q', '--no-trunc', '--filter', 'label=tier=test'])).trim();
  assert.equal(byLabel, labelled);
  const byRef = (await cli(['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', 'reference=busy*'])).trim();
  assert.equal(byRef, 'busybox:test');
  const none = (await cli(['images', '-q', '--filter', 'reference=nomatch*'])).trim();
  assert.equal(none, '');
  const bad = await docker(d.socket, ['images', '--filter', 'bogus=1'], { expectCode: 'failure' });
  assert.match(bad.stderr, /Invalid filter 'bogus'/);
});

test('docker image prune removes dangling images and reports the space', async () => {
  const dangling = (await cli(['images', '-q', '--no-trunc', '--filter', 'dangling=true'])).trim();
  const out = await cli(['image', 'prune', '-f']);
  assert.match(out, new RegExp(`deleted: ${dangling}`));
  // Its only layer is busybox:test's too (same content, same chainID): nothing to reclaim.
  assert.match(out, /Total reclaimed space: 0B/);
  assert.equal((await cli(['images', '-q', '--filter', 'dangling=true'])).trim(), '');
  assert.match(await cli(['images']), /busybox\s+test/, 'tagged images stay');
});

test('docker save piped into docker load on a fresh data root gives the same image ID', async (t) => {
  const id = (await api('GET', '/images/busybox:test/json')).Id;
  const archive = join(work, 'saved.tar');
  await cli(['save', '-o', archive, 'busybox:test']);
  const fresh = await startDaemon();
  t.after(() => fresh.cleanup());
  const loaded = await docker(fresh.socket, ['load', '-i', archive], { timeoutMs: 120_000 });
  assert.equal(loaded.stdout.trim(), 'Loaded image: busybox:test');
  const again = (await apiRequest(fresh.socket, 'GET', '/images/busybox:test/json')).json();
  assert.equal(again.Id, id);
  assert.deepEqual(again.RootFS.Layers, [rootfs.digest]);
  // The saved layer.tar is the original tar byte for byte.
  const { execFileSync } = await import('node:child_process');
  const listing = execFileSync('tar', ['-tf', archive]).toString().split('\n');
  const layerPath = listing.find((l) => l.endsWith('/layer.tar'))!;
  const layer = execFileSync('tar', ['-xOf', archive, layerPath], { maxBuffer: 64 << 20 });
  assert.equal(`sha256:${createHash('sha256').update(layer).digest('hex')}`, rootfs.digest);
  assert.deepEqual(JSON.parse(execFileSync('tar', ['-xOf', archive, 'manifest.json']).toString())[0].RepoTags, ['busybox:test']);
  // Loading the same archive again stores nothing twice.
  await docker(fresh.socket, ['load', '-i', archive], { timeoutMs: 120_000 });
  assert.equal((await apiRequest(fresh.socket, 'GET', '/images/json')).json().length, 1);
});

test('image events: import, tag, untag, delete', async () => {
  await cli(['tag', 'busybox:test', 'evented:1']);
  await cli(['rmi', 'evented:1']);
  // --until is whole seconds: ask for the next one so the events of this second are in.
  const until = String(Math.floor(Date.now() / 1000) + 1);
  const out = await cli(['events', '--since', String(since), '--until', until, '--filter', 'type=image', '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
  const lines = out.trim().split('\n');
  assert.ok(lines.includes('import ' + (await api('GET', '/images/busybox:test/json')).Id), out);
  assert.ok(lines.includes('tag busybox:test'), out);
  assert.ok(lines.includes('tag evented:1'), out);
  assert.ok(lines.includes('untag evented:1'), out);
  assert.ok(lines.some((l) => l.startsWith('delete sha256:')), out);
});

test('docker rmi -f by ID untags every name, deletes the image and its layer', async () => {
  const id = (await api('GET', '/images/busybox:test/json')).Id;
  await cli(['tag', 'busybox:test', 'second:1']);
  const out = (await cli(['rmi', '-f', id.slice(7, 19)])).trim().split('\n');
  assert.deepEqual(out.filter((l) => l.startsWith('Untagged')).sort(), ['Untagged: busybox:test', 'Untagged: second:1']);
  assert.ok(out.includes(`Deleted: ${id}`));
  assert.ok(out.includes(`Deleted: ${rootfs.digest}`), 'the layer (chainID = diffID for a base layer) is removed');
  assert.deepEqual(await api('GET', '/images/json'), []);
  const df = await api('GET', '/system/df');
  assert.equal(df.LayersSize, 0);
  void readFileSync;
});
