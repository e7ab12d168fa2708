// Plugin contracts without a daemon: versioned requires/provides in manifests, the order and version
// check of the loader, and the core's registry of driver kinds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PluginCandidate } from '../core/plugins/discover.js';
import { DriverRegistry } from '../core/plugins/drivers.js';
import { checkManifest } from '../core/plugins/manifest.js';
import { orderPlugins } from '../core/plugins/order.js';
import { ServiceRegistry } from '../core/plugins/context.js';

const candidate = (m: Record<string, unknown>): PluginCandidate => ({
  manifest: checkManifest({ version: '1.0.0', kind: 'builtin', coreApi: '^1.0.0', ...m }, `${String(m.name)}/plugin.json`),
  dir: `/plugins/${String(m.name)}`,
  source: 'dir',
});

test('manifests: the object forms state versions; the array forms mean any version, at the plugin\'s own version', () => {
  const modern = candidate({ name: 'store', version: '0.4.0', provides: { images: '1.2.0' }, requires: { graph: '^1' } }).manifest;
  assert.deepEqual(modern.provides, { images: '1.2.0' });
  assert.deepEqual(modern.requires, { graph: '^1' });
  const old = candidate({ name: 'hello', version: '1.2.3', provides: ['hello'], requires: ['api'] }).manifest;
  assert.deepEqual(old.provides, { hello: '1.2.3' });
  assert.deepEqual(old.requires, { api: '*' });
  assert.throws(() => candidate({ name: 'bad', provides: { images: 'one' } }), /plugin bad: manifest bad\/plugin\.json: provides\.images: must be a semver version, got "one"/);
  assert.throws(() => candidate({ name: 'bad', requires: { images: '>>1' } }), /plugin bad: manifest bad\/plugin\.json: requires\.images: must be a semver range, got ">>1"/);
  assert.throws(() => candidate({ name: 'bad', requires: { images: 2 } }), /requires\.images: must be string/);
});

test('the loader checks each required range against the version provided, the plugin name included', () => {
  const graph = candidate({ name: 'graph', provides: { graph: '1.4.0' } });
  const ok = candidate({ name: 'images', requires: { graph: '^1.2' } });
  const byName = candidate({ name: 'fan', requires: { graph: '^1', images: '1.0.x' } });
  assert.deepEqual(orderPlugins([byName, ok, graph]).map((c) => c.manifest.name), ['graph', 'images', 'fan']);
  const tooNew = candidate({ name: 'picky', requires: { graph: '>=1.5.0' } });
  assert.throws(() => orderPlugins([graph, tooNew]), { message: 'plugin picky: requires: service "graph" ">=1.5.0", but plugin graph provides graph 1.4.0' });
  const legacy = candidate({ name: 'legacy', version: '0.9.0', provides: ['legacy'] });
  const strict = candidate({ name: 'strict', requires: { legacy: '^1' } });
  assert.throws(() => orderPlugins([legacy, strict]), /plugin strict: requires: service "legacy" "\^1", but plugin legacy provides legacy 0\.9\.0/);
});

test('services: get refuses a name the manifest does not require, whatever the form', () => {
  const registry = new ServiceRegistry();
  registry.facade(candidate({ name: 'graph', provides: { graph: '1.0.0' } }).manifest).provide('graph', { ok: true });
  const user = registry.facade(candidate({ name: 'images', requires: { graph: '^1' } }).manifest);
  assert.deepEqual(user.get('graph'), { ok: true });
  assert.throws(() => user.get('containers'), /plugin images: requires: service "containers" is used but not declared/);
  assert.throws(() => user.provide('images', {}), /plugin images: provides: service "images" is not declared/);
});

test('driver kinds: same major and no newer minor load; others are refused naming plugin, kind, driver and versions', () => {
  const registry = new DriverRegistry();
  const owner = registry.facade('volumes');
  const told: string[] = [];
  owner.declareKind('volume', { version: '1.3.0', onRegister: (e) => told.push(`${e.name}@${e.api} by ${e.plugin}`) });
  const driver = registry.facade('volume-nfs');
  driver.register('volume', { name: 'nfs', api: '1.1.0', mount: 'nfs' });
  driver.register('volume', { name: 'nfs4', api: '1.3.7' });
  assert.throws(() => driver.register('volume', { name: 'new', api: '1.4.0' }),
    { message: 'plugin volume-nfs: volume driver "new" is written for volume driver API 1.4.0, but this daemon\'s volume driver API is 1.3.0 (needs 1.3 or older)' });
  assert.throws(() => driver.register('volume', { name: 'two', api: '2.0.0' }), /plugin volume-nfs: volume driver "two" is written for volume driver API 2\.0\.0.*\(needs 1\.x\)/);
  assert.throws(() => driver.register('volume', { name: 'odd', api: 'latest' }), /plugin volume-nfs: volume driver "odd": api: must be the version of the volume driver API it was written for \(this daemon's is 1\.3\.0\), got "latest"/);
  assert.throws(() => registry.facade('other').register('volume', { name: 'nfs', api: '1.0.0' }), /plugin other: volume driver "nfs" is already registered by plugin volume-nfs/);
  assert.deepEqual(owner.list('volume').map((r) => r.name), ['nfs', 'nfs4']);
  assert.equal(owner.get<{ name: string; api: string; mount: string }>('volume', 'nfs')?.mount, 'nfs');
  assert.equal(owner.get('volume', 'missing'), undefined);
  assert.deepEqual(told, ['nfs@1.1.0 by volume-nfs', 'nfs4@1.3.7 by volume-nfs']);
  assert.deepEqual(owner.kinds(), [{ kind: 'volume', version: '1.3.0', owner: 'volumes', drivers: [
    { name: 'nfs', api: '1.1.0', plugin: 'volume-nfs' }, { name: 'nfs4', api: '1.3.7', plugin: 'volume-nfs' },
  ] }]);
  assert.throws(() => driver.register('log', { name: 'syslog', api: '1.0.0' }), /plugin volume-nfs: driver kind "log" is declared by no plugin/);
  assert.throws(() => driver.declareKind('volume', { version: '1.0.0' }), /plugin volume-nfs: driver kind "volume" is already declared by plugin volumes/);
});

test('driver kinds: below 1.0.0 the minor must match; a refusal by the owner keeps the driver out', () => {
  const registry = new DriverRegistry();
  const owner = registry.facade('log');
  owner.declareKind('log', { version: '0.2.0', onRegister: (e) => { if (e.name === 'late') throw new Error('log drivers are chosen already'); } });
  const d = registry.facade('log-drivers');
  d.register('log', { name: 'json', api: '0.2.5' });
  assert.throws(() => d.register('log', { name: 'old', api: '0.1.0' }), /\(needs 0\.2\.x\)/);
  assert.throws(() => d.register('log', { name: 'late', api: '0.2.0' }), /chosen already/);
  assert.deepEqual(owner.list('log').map((r) => r.name), ['json']);
});

test('driver kinds: a registration through the owner\'s service is credited to the plugin being initialised', () => {
  const registry = new DriverRegistry();
  const owner = registry.facade('network');
  owner.declareKind('network', { version: '1.0.0' });
  registry.initialising = 'net-veth';
  // What a compatibility wrapper does: the owner registers on the driver plugin's behalf.
  assert.throws(() => owner.register('network', { name: 'veth', api: '3.0.0' }), /plugin net-veth: network driver "veth" is written for network driver API 3\.0\.0/);
  owner.register('network', { name: 'veth', api: '1.0.0' });
  registry.initialising = undefined;
  assert.deepEqual(owner.kinds()[0].drivers, [{ name: 'veth', api: '1.0.0', plugin: 'net-veth' }]);
  registry.forget('net-veth');
  assert.deepEqual(owner.list('network'), []);
});
