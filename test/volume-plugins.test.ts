// Docker volume plugins as volume drivers: a plugin written here (test/helpers/volume-plugin-server.ts,
// real directories behind each volume) is found by name in a plugin folder the test made, as a
// socket, a .spec or a .json file, on a unix socket or 127.0.0.1, and driven with dockerd's calls.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { statusOf } from '../core/plugin-api.js';
import { VolumePlugins } from '../plugins/volume-plugins/registry.js';
import { apiRequest, makeTempDir, onCleanup, startDaemon } from './helpers/daemon.js';
import { startDockerPluginServer } from './helpers/docker-plugin-server.js';
import { startTestVolumePlugin } from './helpers/volume-plugin-server.js';

const quiet = pino({ level: 'silent' });

/** A plugin folder and a folder of volume data, both removed when the test ends. */
function folders(t: Parameters<typeof onCleanup>[0]) {
  const work = makeTempDir('berth-volplugins-');
  onCleanup(t, () => rmSync(work, { recursive: true, force: true }));
  const plugins = join(work, 'plugins');
  const data = join(work, 'data');
  mkdirSync(plugins);
  mkdirSync(data);
  return { plugins, data };
}

/** A registry over `dirs`, reset when the test ends. */
function registryOver(t: Parameters<typeof onCleanup>[0], dirs: string[]) {
  const registry = new VolumePlugins(() => dirs, quiet);
  onCleanup(t, () => registry.reset());
  return registry;
}

/** The test plugin as NAME.sock in a fresh plugin folder, and a registry over that folder. */
async function pluginNamed(t: Parameters<typeof onCleanup>[0], name: string, scope?: string) {
  const { plugins, data } = folders(t);
  const plugin = await startTestVolumePlugin({ socket: join(plugins, `${name}.sock`) }, data, scope);
  onCleanup(t, () => plugin.stop());
  return { plugins, data, plugin, registry: registryOver(t, [plugins]) };
}

test('create, get, list, mount, path, unmount, remove and capabilities reach the plugin with dockerd\'s requests', async (t) => {
  const { data, plugin, registry } = await pluginNamed(t, 'tvp');

  assert.equal(await registry.resolve('other'), undefined, 'no such plugin: not ours to answer');
  const driver = await registry.resolve('tvp');
  assert.ok(driver);
  assert.equal(driver.name, 'tvp');
  assert.deepEqual(registry.names(), ['tvp']);

  const created = await driver.create('v1', { size: '1m' });
  assert.deepEqual(created, { name: 'v1', mountpoint: '', status: null });
  const create = plugin.calls.find((c) => c.method === '/VolumeDriver.Create')!;
  assert.deepEqual(create.doc, { Name: 'v1', Opts: { size: '1m' } });
  assert.ok(plugin.calls.every((c) => c.contentType === 'application/vnd.docker.plugins.v1.2+json'));
  assert.ok(statSync(join(data, 'v1')).isDirectory(), 'the plugin made its volume');

  const got = await driver.get('v1');
  assert.equal(got?.name, 'v1');
  assert.equal(got?.createdAt, plugin.volumes.get('v1')!.createdAt);
  assert.deepEqual(got?.status, { backing: join(data, 'v1'), mounts: 0 });
  assert.equal(await driver.get('nope'), null, 'an Err answer to Get means no such volume');
  await driver.create('v2', {});
  assert.deepEqual((await driver.list()).map((v) => v.name), ['v1', 'v2']);

  const where = await driver.mount('v1', 'c'.repeat(64));
  assert.equal(where, join(data, 'v1'));
  assert.deepEqual(plugin.calls.find((c) => c.method === '/VolumeDriver.Mount')!.doc, { Name: 'v1', ID: 'c'.repeat(64) });
  writeFileSync(join(where, 'f'), 'kept');
  assert.equal(await driver.path('v1'), where);
  await driver.unmount('v1', 'c'.repeat(64));
  assert.deepEqual(plugin.calls.find((c) => c.method === '/VolumeDriver.Unmount')!.doc, { Name: 'v1', ID: 'c'.repeat(64) });
  assert.equal(await driver.path('v1'), '', 'unmounted: the plugin has no path to give');

  await driver.remove('v1');
  assert.equal(existsSync(join(data, 'v1')), false);
  assert.equal(await driver.get('v1'), null);

  assert.deepEqual(await driver.capabilities(), { scope: 'local' });
  assert.deepEqual(await driver.capabilities(), { scope: 'local' });
  assert.equal(plugin.ops().filter((o) => o === 'Capabilities').length, 1, 'asked once');
  assert.equal(plugin.calls.filter((c) => c.method === '/Plugin.Activate').length, 1, 'activated once');
  assert.equal(await registry.resolve('tvp'), driver, 'one driver per plugin');
});

test('uses of a name at the same time share one activation', async (t) => {
  const { data, plugin, registry } = await pluginNamed(t, 'busyvp');
  const drivers = await Promise.all(Array.from({ length: 5 }, () => registry.resolve('busyvp')));
  assert.ok(drivers.every((x) => x === drivers[0]));
  await Promise.all(['a1', 'a2', 'a3'].map((n) => drivers[0]!.create(n, {})));
  assert.deepEqual([...plugin.volumes.keys()].sort(), ['a1', 'a2', 'a3']);
  assert.equal(plugin.calls.filter((c) => c.method === '/Plugin.Activate').length, 1);
});

test('an Err answer becomes an error naming the plugin and the operation, and the plugin keeps nothing', async (t) => {
  const { data, plugin, registry } = await pluginNamed(t, 'errvp', 'GLOBAL');
  const driver = (await registry.resolve('errvp'))!;

  const refused = await driver.create('q', { fail: 'quota exceeded' }).then(() => undefined, (e: Error) => e);
  assert.equal(refused?.message, 'volume plugin errvp: VolumeDriver.Create: quota exceeded');
  assert.equal(statusOf(refused), 500);
  assert.equal(plugin.volumes.size, 0);
  assert.equal(existsSync(join(data, 'q')), false);

  await driver.create('m', {});
  plugin.failNext.set('Mount', 'device busy');
  await assert.rejects(driver.mount('m', 'c1'), { message: 'volume plugin errvp: VolumeDriver.Mount: device busy' });
  await driver.mount('m', 'c1');
  await assert.rejects(driver.remove('m'), { message: 'volume plugin errvp: VolumeDriver.Remove: volume m is mounted by c1' });
  plugin.failNext.set('List', 'backend offline');
  await assert.rejects(driver.list(), { message: 'volume plugin errvp: VolumeDriver.List: backend offline' });
  await driver.unmount('m', 'c1');
  await driver.remove('m');
  await driver.create('rel', { mountpoint: 'relative/dir' });
  await assert.rejects(driver.mount('rel', 'c2'), { message: 'volume plugin errvp: VolumeDriver.Mount: invalid answer: Mountpoint "relative/dir" is not an absolute path' });
  assert.equal(plugin.volumes.get('rel')!.mountedBy.size, 0, 'what the plugin took for the mount is released');
  assert.deepEqual(await driver.capabilities(), { scope: 'global' }, 'the scope is read case-insensitively, as dockerd');
  assert.equal(plugin.calls.filter((c) => c.method === '/Plugin.Activate').length, 1, 'Err answers do not re-activate');
});

test('a plugin that is stopped gives a clear error; started again, it is found and activated again', async (t) => {
  const { plugins, data } = folders(t);
  const socket = join(plugins, 'downvp.sock');
  let plugin = await startTestVolumePlugin({ socket }, data);
  onCleanup(t, () => plugin.stop());
  const registry = registryOver(t, [plugins]);
  const driver = (await registry.resolve('downvp'))!;
  await driver.create('before', {});

  await plugin.stop();
  const down = await driver.create('x', {}).then(() => undefined, (e: Error) => e);
  assert.match(down?.message ?? '', /^volume plugin downvp: VolumeDriver\.Create: (connect E(NOENT|CONNREFUSED)|plugin not found)/);
  assert.equal(statusOf(down), 500);
  assert.equal(existsSync(join(data, 'x')), false, 'nothing half-made');
  // Gone from the folder: the next call says where it was looked for.
  await assert.rejects(driver.create('x', {}), { message: `volume plugin downvp: VolumeDriver.Create: plugin not found: no downvp.sock, downvp.spec or downvp.json in ${plugins}` });
  assert.equal(await new VolumePlugins(() => [plugins], quiet).resolve('downvp'), undefined, 'a fresh lookup finds no plugin');

  plugin = await startTestVolumePlugin({ socket }, data);
  await driver.create('after', {});
  assert.deepEqual([...plugin.volumes.keys()], ['after']);
  assert.equal(plugin.calls[0].method, '/Plugin.Activate', 're-activated after it came back');
});

test('NAME.spec and NAME.json files, a plugin on 127.0.0.1, and a plugin that is no volume driver', async (t) => {
  const { plugins, data } = folders(t);
  const tcp = await startTestVolumePlugin({ tcp: true }, join(data, 'tcp'));
  onCleanup(t, () => tcp.stop());
  assert.match(tcp.address, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  writeFileSync(join(plugins, 'specvp.spec'), `${tcp.address}\n`);
  const unix = await startTestVolumePlugin({ socket: join(data, 'elsewhere.sock') }, join(data, 'unix'));
  onCleanup(t, () => unix.stop());
  writeFileSync(join(plugins, 'jsonvp.json'), JSON.stringify({ Name: 'jsonvp', Addr: unix.address }));
  const authz = await startDockerPluginServer({ socket: join(plugins, 'authzonly.sock') }, ['authz'], () => undefined);
  onCleanup(t, () => authz.stop());
  const registry = registryOver(t, [join(plugins, 'absent'), plugins]);

  const viaSpec = (await registry.resolve('specvp'))!;
  await viaSpec.create('t1', {});
  const mounted = await viaSpec.mount('t1', 'c1');
  writeFileSync(join(mounted, 'f'), 'over tcp');
  assert.equal(readFileSync(join(data, 'tcp', 't1', 'f'), 'utf8'), 'over tcp');
  await viaSpec.unmount('t1', 'c1');

  const viaJson = (await registry.resolve('jsonvp'))!;
  await viaJson.create('j1', {});
  assert.deepEqual([...unix.volumes.keys()], ['j1']);

  await assert.rejects(registry.resolve('authzonly'), (e: Error) => {
    assert.equal(e.message, 'error looking up volume plugin authzonly: Plugin.Activate: the plugin does not implement VolumeDriver (Implements: ["authz"])');
    assert.equal(statusOf(e), 500);
    return true;
  });
  assert.deepEqual(registry.names(), ['jsonvp', 'specvp']);
  assert.equal(await registry.resolve('../etc/passwd'), undefined, 'not a plugin name');
});

test('berthd takes --volume-plugin-dir and loads volume-plugins', async (t) => {
  const { plugins } = folders(t);
  const d = await startDaemon({ args: ['--volume-plugin-dir', plugins] });
  onCleanup(t, () => d.cleanup());
  const info = JSON.parse((await apiRequest(d.socket, 'GET', '/info')).body);
  assert.ok(info.Plugins.Loaded.some((p: { Name: string }) => p.Name === 'volume-plugins'));
});
