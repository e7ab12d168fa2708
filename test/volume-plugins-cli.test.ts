// A Docker volume plugin written here (test/helpers/volume-plugin-server.ts, on a unix socket in
// a plugin folder the test made, real directories behind each volume) driven by the real docker
// CLI: docker volume create -d, docker run --volume-driver, docker info; a stopped plugin makes
// create fail with a clear error and leaves nothing half-made; SIGHUP reads new plugin folders.
// Needs the volumes service (plugins/volume, /volumes routes, the container mount pipeline).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { withBusyboxDaemon } from './helpers/busybox.js';
import { docker, makeTempDir, type RunningDaemon } from './helpers/daemon.js';
import { waitFor } from './helpers/poll.js';
import { startTestVolumePlugin, type TestVolumePlugin } from './helpers/volume-plugin-server.js';

// The plugin folder is in daemon.json (volume-plugin-dirs, so SIGHUP can change it) before the
// daemon starts; the flag --volume-plugin-dir is tested in volume-plugins.test.ts.
const work = makeTempDir('berth-volplugins-cli-');
const pluginDir = join(work, 'plugins');
const data = join(work, 'data');
const daemonDir = join(work, 'daemon');
for (const dir of [pluginDir, data, daemonDir]) mkdirSync(dir);
writeFileSync(join(daemonDir, 'daemon.json'), JSON.stringify({ 'volume-plugin-dirs': [pluginDir] }));
let plugin: TestVolumePlugin | undefined;
let d: RunningDaemon | undefined;

before(async () => {
  plugin = await startTestVolumePlugin({ socket: join(pluginDir, 'clivp.sock') }, data);
});
withBusyboxDaemon('berth-volplugins-cli-daemon-', (daemon) => { d = daemon; }, { dir: daemonDir });
after(async () => {
  await plugin?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('docker volume create -d, docker run --volume-driver, docker info and docker volume rm go through the plugin', async () => {
  const s = d!.socket;
  const p = plugin!;
  assert.equal((await docker(s, ['volume', 'create', '-d', 'clivp', '--opt', 'tier=fast', 'vx'])).stdout.trim(), 'vx');
  assert.deepEqual(p.volumes.get('vx')?.opts, { tier: 'fast' });
  assert.equal((await docker(s, ['volume', 'inspect', '-f', '{{.Driver}}', 'vx'])).stdout.trim(), 'clivp');
  assert.match((await docker(s, ['volume', 'ls'])).stdout, /clivp\s+vx\n/);

  await docker(s, ['run', '--rm', '--volume-driver', 'clivp', '-v', 'vx:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f'], { timeoutMs: 60_000 });
  assert.equal(readFileSync(join(data, 'vx', 'f'), 'utf8'), 'kept\n', 'written into the plugin\'s directory');
  const mounts = p.calls.filter((c) => c.method === '/VolumeDriver.Mount').map((c) => c.doc);
  const unmounts = p.calls.filter((c) => c.method === '/VolumeDriver.Unmount').map((c) => c.doc);
  assert.ok(mounts.some((m) => m.Name === 'vx' && /^[0-9a-f]{64}$/.test(m.ID)), `mounted for the container: ${JSON.stringify(mounts)}`);
  assert.deepEqual(unmounts.map((u) => u.ID).sort(), mounts.map((m) => m.ID).sort(), 'and every mount released when it stopped');
  assert.equal(p.volumes.get('vx')!.mountedBy.size, 0);
  const r = await docker(s, ['run', '--rm', '-v', 'vx:/data', 'busybox', 'cat', '/data/f'], { timeoutMs: 60_000 });
  assert.equal(r.stdout, 'kept\n');

  // A volume the plugin does not have yet is created by it for the run.
  await docker(s, ['run', '--rm', '--volume-driver', 'clivp', '-v', 'vy:/data', 'busybox', 'true'], { timeoutMs: 60_000 });
  assert.ok(p.volumes.has('vy'));

  const drivers = JSON.parse((await docker(s, ['info', '--format', '{{json .Plugins.Volume}}'])).stdout) as string[];
  assert.ok(drivers.includes('local') && drivers.includes('clivp'), JSON.stringify(drivers));

  await docker(s, ['volume', 'rm', 'vx', 'vy']);
  assert.equal(p.volumes.size, 0);
  assert.equal(existsSync(join(data, 'vx')), false);
});

test('a stopped plugin: create fails naming it, and nothing half-made remains', async () => {
  const s = d!.socket;
  await plugin!.stop();
  plugin = undefined;
  const r = await docker(s, ['volume', 'create', '-d', 'clivp', 'vz'], { expectCode: 'failure' });
  assert.match(r.stderr, /volume plugin clivp: VolumeDriver\.Create: /);
  assert.doesNotMatch((await docker(s, ['volume', 'ls', '-q'])).stdout, /^vz$/m);
  assert.equal(existsSync(join(data, 'vz')), false);

  const run = await docker(s, ['run', '--name', 'half', '--volume-driver', 'clivp', '-v', 'vw:/data', 'busybox', 'true'], { expectCode: 'failure', timeoutMs: 60_000 });
  assert.match(run.stderr, /volume plugin clivp: VolumeDriver\.Create: /);
  assert.equal((await docker(s, ['ps', '-aq', '--filter', 'name=half'])).stdout.trim(), '', 'no container left behind');
  assert.doesNotMatch((await docker(s, ['volume', 'ls', '-q'])).stdout, /^vw$/m);

  const unknown = await docker(s, ['volume', 'create', '-d', 'nosuchplugin', 'vq'], { expectCode: 'failure' });
  assert.match(unknown.stderr, /error looking up volume plugin nosuchplugin: plugin "nosuchplugin" not found/);
});

test('SIGHUP with new volume-plugin-dirs: a plugin in the new folder is found', async (t) => {
  const s = d!.socket;
  const other = join(work, 'plugins2');
  mkdirSync(other);
  const moved = await startTestVolumePlugin({ socket: join(other, 'movedvp.sock') }, join(data, 'moved'));
  t.after(() => moved.stop());
  const before = await docker(s, ['volume', 'create', '-d', 'movedvp', 'vm'], { expectCode: 'failure' });
  assert.match(before.stderr, /plugin "movedvp" not found/);

  writeFileSync(join(daemonDir, 'daemon.json'), JSON.stringify({ 'volume-plugin-dirs': [other] }));
  const mark = d!.logs().length;
  d!.proc.kill('SIGHUP');
  await waitFor('the daemon to log "configuration reloaded" after SIGHUP', () => /configuration reloaded/.test(d!.logs().slice(mark)), {
    maxTries: 100, intervalMs: 100, detail: () => d!.logs().slice(mark),
  });
  await docker(s, ['volume', 'create', '-d', 'movedvp', 'vm']);
  assert.ok(moved.volumes.has('vm'));
  await docker(s, ['volume', 'rm', 'vm']);
  assert.equal(moved.volumes.size, 0);
});
