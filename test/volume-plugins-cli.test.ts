// A Docker volume plugin written here (test/helpers/volume-plugin-server.ts, on a unix socket in
// a plugin folder the test made, real directories behind each volume) driven by the real docker
// CLI: docker volume create -d, docker run --volume-driver, docker info; a stopped plugin makes
// create fail with a clear error and leaves nothing half-made.
// Needs the volumes service (plugins/volume, /volumes routes, the container mount pipeline).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';
import { docker, makeTempDir, type RunningDaemon, startDaemon } from './helpers/daemon.js';
import { startTestVolumePlugin, type TestVolumePlugin } from './helpers/volume-plugin-server.js';

let d: RunningDaemon | undefined;
let work: string;
let pluginDir: string;
let data: string;
let plugin: TestVolumePlugin | undefined;

before(async () => {
  work = makeTempDir('berth-volplugins-cli-');
  pluginDir = join(work, 'plugins');
  data = join(work, 'data');
  mkdirSync(pluginDir);
  mkdirSync(data);
  plugin = await startTestVolumePlugin({ socket: join(pluginDir, 'clivp.sock') }, data);
  d = await startDaemon({ args: ['--volume-plugin-dir', pluginDir] });
  await importBusybox(d.socket, work);
});
after(async () => {
  if (d) {
    await removeAllContainers(d.socket);
    await d.cleanup();
  }
  await plugin?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('docker volume create -d, docker run --volume-driver, docker info and docker volume rm go through the plugin', async () => {
  const s = d!.socket;
  const p = plugin!;
  assert.equal((await docker(s, ['volume', 'create', '-d', 'clivp', '--opt', 'tier=fast', 'x'])).stdout.trim(), 'x');
  assert.deepEqual(p.volumes.get('x')?.opts, { tier: 'fast' });
  assert.equal((await docker(s, ['volume', 'inspect', '-f', '{{.Driver}}', 'x'])).stdout.trim(), 'clivp');
  assert.match((await docker(s, ['volume', 'ls'])).stdout, /clivp\s+x\n/);

  await docker(s, ['run', '--rm', '--volume-driver', 'clivp', '-v', 'x:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f'], { timeoutMs: 60_000 });
  assert.equal(readFileSync(join(data, 'x', 'f'), 'utf8'), 'kept\n', 'written into the plugin\'s directory');
  const mount = p.calls.find((c) => c.method === '/VolumeDriver.Mount')!;
  const unmount = p.calls.find((c) => c.method === '/VolumeDriver.Unmount')!;
  assert.equal(mount.doc.Name, 'x');
  assert.match(mount.doc.ID, /^[0-9a-f]{64}$/, 'mounted for the container');
  assert.deepEqual(unmount.doc, mount.doc, 'and released when it stopped');
  assert.equal(p.volumes.get('x')!.mountedBy.size, 0);
  const r = await docker(s, ['run', '--rm', '-v', 'x:/data', 'busybox', 'cat', '/data/f'], { timeoutMs: 60_000 });
  assert.equal(r.stdout, 'kept\n');

  // A volume the plugin does not have yet is created by it for the run.
  await docker(s, ['run', '--rm', '--volume-driver', 'clivp', '-v', 'y:/data', 'busybox', 'true'], { timeoutMs: 60_000 });
  assert.ok(p.volumes.has('y'));

  const drivers = JSON.parse((await docker(s, ['info', '--format', '{{json .Plugins.Volume}}'])).stdout) as string[];
  assert.ok(drivers.includes('local') && drivers.includes('clivp'), JSON.stringify(drivers));

  await docker(s, ['volume', 'rm', 'x', 'y']);
  assert.equal(p.volumes.size, 0);
  assert.equal(existsSync(join(data, 'x')), false);
});

test('a stopped plugin: create fails naming it, and nothing half-made remains', async () => {
  const s = d!.socket;
  await plugin!.stop();
  plugin = undefined;
  const r = await docker(s, ['volume', 'create', '-d', 'clivp', 'z'], { expectCode: 'failure' });
  assert.match(r.stderr, /clivp/);
  assert.doesNotMatch((await docker(s, ['volume', 'ls', '-q'])).stdout, /^z$/m);
  assert.equal(existsSync(join(data, 'z')), false);

  const run = await docker(s, ['run', '--name', 'half', '--volume-driver', 'clivp', '-v', 'w:/data', 'busybox', 'true'], { expectCode: 'failure', timeoutMs: 60_000 });
  assert.match(run.stderr, /clivp/);
  assert.equal((await docker(s, ['ps', '-aq', '--filter', 'name=half'])).stdout.trim(), '', 'no container left behind');
  assert.doesNotMatch((await docker(s, ['volume', 'ls', '-q'])).stdout, /^w$/m);

  const unknown = await docker(s, ['volume', 'create', '-d', 'nosuchplugin', 'q'], { expectCode: 'failure' });
  assert.match(unknown.stderr, /nosuchplugin/);
});
