// The plugin loader's refusals: each stops the daemon with one error naming plugin, field and expectation.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { EXEC_DRIVER_API } from '../plugins/exec/index.js';
import { GRAPH_DRIVER_API } from '../plugins/graph/index.js';
import { makeTempDir, REPO, runBerthd, startDaemon } from './helpers/daemon.js';

const FIXTURES = join(REPO, 'test/fixtures/plugins');

async function refuses(args: string[], expected: RegExp[], env: NodeJS.ProcessEnv = {}) {
  const dir = makeTempDir();
  writeFileSync(join(dir, 'daemon.json'), '{}');
  try {
    const r = await runBerthd([
      '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '-p', join(dir, 'pid'),
      '-H', `unix://${join(dir, 'sock')}`, '--config-file', join(dir, 'daemon.json'), ...args,
    ], env, { expectCode: 'failure' });
    for (const re of expected) assert.match(r.stderr, re);
    // Log lines (pino JSON) may precede it; the refusal itself is one line.
    const plain = r.stderr.trim().split('\n').filter((l) => !l.startsWith('{'));
    assert.equal(plain.length, 1, `one error line expected:\n${r.stderr}`);
    assert.equal(existsSync(join(dir, 'sock')), false, 'no socket left behind');
    assert.equal(existsSync(join(dir, 'pid')), false, 'no pid file left behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a plugin whose coreApi range the core does not satisfy stops the daemon', async () => {
  await refuses(['--plugin-dir', join(FIXTURES, 'bad-api-range')], [/plugin future-plugin/, /coreApi/, /"\^2\.0\.0"/, /provides 1\.1\.0/]);
});

test('a plugin config that violates its schema stops the daemon before the plugin code loads', async () => {
  const dir = makeTempDir();
  const marker = join(dir, 'loaded');
  const file = join(dir, 'daemon.json');
  writeFileSync(file, JSON.stringify({ 'counter-max': 'many' }));
  try {
    await refuses(['--plugin-dir', join(FIXTURES, 'bad-config'), '--config-file', file],
      [/plugin counter/, /counter-max/, /must be integer/, new RegExp(file.replace(/[/.]/g, '\\$&'))], { BERTH_TEST_MARKER: marker });
    await refuses(['--plugin-dir', join(FIXTURES, 'bad-config'), '--counter-max', '0'], [/plugin counter/, /counter-max/, /must be >= 1/], { BERTH_TEST_MARKER: marker });
    assert.equal(existsSync(marker), false, 'the plugin code must not run when its config is invalid');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an invalid manifest stops the daemon naming the field and the allowed values', async () => {
  await refuses(['--plugin-dir', join(FIXTURES, 'bad-manifest')], [/plugin broken/, /plugin\.json/, /kind: must be one of "api"/]);
});

test('a missing provider stops the daemon naming the plugin and the service', async () => {
  await refuses(['--plugin-dir', join(FIXTURES, 'missing-dep')], [/plugin lonely/, /requires/, /graphdriver\.zfs/, /no loaded plugin/]);
});

test('a dependency cycle stops the daemon naming the cycle', async () => {
  await refuses(['--plugin-dir', join(FIXTURES, 'cycle')], [/dependency cycle/, /cycle-a -> cycle-b -> cycle-a/]);
});

test('a duplicate provider stops the daemon naming both plugins', async () => {
  await refuses(['--plugin-dir', join(FIXTURES, 'duplicate-provider')], [/plugin impostor/, /provides: "api"/, /api-server/]);
});

test('a plugin whose init throws stops the daemon and leaves nothing behind', async () => {
  await refuses(['--plugin-dir', join(FIXTURES, 'init-throws')], [/plugin grumpy/, /init failed/, /\/dev\/grumpy/]);
});

test('an exec driver written for another exec-driver API major is refused at registration, naming it', async () => {
  await refuses(['--plugin-dir', join(FIXTURES, 'exec-old-api')], [/plugin exec-old-api/, new RegExp(`exec driver "old" is written for exec driver API 1\\.4\\.0, but this daemon's exec driver API is ${EXEC_DRIVER_API.replaceAll('.', '\\.')} \\(needs 2\\.x\\)`)]);
});

test('a plugin folder with no plugin.json, and an npm package not installed, are refused by name', async () => {
  const empty = makeTempDir();
  try {
    await refuses(['--plugin-dir', empty], [/plugin folder holds no plugin\.json/]);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
  await refuses(['--plugin', 'berth-plugin-that-does-not-exist'], [/berth-plugin-that-does-not-exist/, /not installed/]);
});

test('two plugins declaring the same flag are refused', async () => {
  // The fixture flag-clash (plugin greeter) declares hello's --hello-greeting under a key of its
  // own; the plugin collected second is refused, naming the flag and the plugin that has it.
  await refuses(['--plugin-dir', join(FIXTURES, 'hello'), '--plugin-dir', join(FIXTURES, 'flag-clash')],
    [/^berthd: plugin greeter: flags\.hello-greeting: --hello-greeting is already declared by hello$/m]);
});

test('the same plugin found in two plugin folders is refused', async () => {
  const hello = join(FIXTURES, 'hello');
  await refuses(['--plugin-dir', hello, '--plugin-dir', hello], [/plugin hello: name: found twice/]);
});

test('berthd plugins lists built-ins and third-party plugins with version, kind and provides', async () => {
  // An explicit config file that does not exist is an error.
  await runBerthd(['plugins', '--plugin-dir', join(FIXTURES, 'hello'), '--config-file', '/nonexistent/berth-daemon.json'], {}, { expectCode: 1 });
  const dir = makeTempDir();
  try {
    await runBerthd(['plugins', '--plugin-dir', join(FIXTURES, 'hello'), '--config-file', join(dir, 'none.json')], {}, { expectCode: 1 });
    writeFileSync(join(dir, 'daemon.json'), '{}');
    const listed = await runBerthd(['plugins', '--plugin-dir', join(FIXTURES, 'hello'), '--config-file', join(dir, 'daemon.json')]);
    const rows = listed.stdout.trim().split('\n').map((l) => l.split(/\s{2,}/));
    assert.deepEqual(rows[0], ['NAME', 'VERSION', 'KIND', 'PROVIDES', 'SOURCE']);
    assert.deepEqual(rows.find((r) => r[0] === 'hello'), ['hello', '1.2.3', 'api', 'hello', 'dir']);
    assert.deepEqual(rows.find((r) => r[0] === 'api-server'), ['api-server', '0.1.0', 'api', 'api', 'builtin']);
    // Dependency order: the api server comes before the plugins that mount routes on it.
    const names = rows.slice(1).map((r) => r[0]);
    assert.ok(names.indexOf('api-server') < names.indexOf('hello'));
    assert.ok(names.indexOf('events') < names.indexOf('api-system'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--help lists the flags plugins contribute', async () => {
  const r = await runBerthd(['--help', '--plugin-dir', join(FIXTURES, 'hello')]);
  assert.match(r.stdout, /-H, --host list/);
  assert.match(r.stdout, /--metrics-addr string/);
  assert.match(r.stdout, /--hello-greeting string\s+What the hello plugin says \[hello\]/);
});

test('a daemon with a third-party plugin starts and lists it in /info', async (t) => {
  const d = await startDaemon({ args: ['--plugin-dir', join(FIXTURES, 'hello')] });
  t.after(() => d.cleanup());
  const { apiRequest } = await import('./helpers/daemon.js');
  const info = (await apiRequest(d.socket, 'GET', '/info')).json();
  assert.deepEqual(info.Plugins.Loaded.find((p: { Name: string }) => p.Name === 'hello'), { Name: 'hello', Version: '1.2.3', Kind: 'api', Provides: ['hello'] });
});

test('a plugin that needs a newer kernel than the running one stops the daemon', async () => {
  await refuses(['--plugin-dir', join(FIXTURES, 'needs-new-kernel')], [/plugin futuristic/, /kernel: requires Linux kernel >= 99\.0, running \d+\./]);
});

test('a plugin installed as an npm package is loaded by name, the same way as a folder', async (t) => {
  // An npm package is a folder under node_modules with a plugin.json at its root.
  const name = `berth-test-plugin-${process.pid}`;
  const link = join(REPO, 'node_modules', name);
  mkdirSync(join(REPO, 'node_modules'), { recursive: true });
  symlinkSync(join(FIXTURES, 'hello'), link);
  t.after(() => rmSync(link, { force: true }));
  const d = await startDaemon({ args: ['--plugin', name] });
  t.after(() => d.cleanup());
  const { apiRequest } = await import('./helpers/daemon.js');
  assert.deepEqual((await apiRequest(d.socket, 'GET', '/hello/npm')).json(), { greeting: 'hello, npm' });
  const info = (await apiRequest(d.socket, 'GET', '/info')).json();
  assert.ok(info.Plugins.Loaded.some((p: { Name: string }) => p.Name === 'hello'));
});

test('a plugin requiring a service version its provider does not have stops the daemon before its code loads', async () => {
  const dir = makeTempDir();
  const marker = join(dir, 'loaded');
  const provided: string = JSON.parse(readFileSync(join(REPO, 'plugins/image-store/plugin.json'), 'utf8')).provides.images;
  assert.match(provided, /^1\./);
  try {
    await refuses(['--plugin-dir', join(FIXTURES, 'needs-images-2')],
      [new RegExp(`plugin images-next: requires: service "images" "\\^2", but plugin image-store provides images ${provided.replaceAll('.', '\\.')}$`, 'm')], { BERTH_TEST_MARKER: marker });
    assert.equal(existsSync(marker), false, 'the plugin code must not run when a required version is missing');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a graph driver written for another major of the graph driver API is refused at start, naming it', async () => {
  await refuses(['--plugin-dir', join(FIXTURES, 'graph-driver-v2')],
    [new RegExp(`plugin graph-future: graph driver "future" is written for graph driver API 2\\.0\\.0, but this daemon's graph driver API is ${GRAPH_DRIVER_API.replaceAll('.', '\\.')} \\(needs 1\\.x\\)`)]);
});

test('a driver kind a third-party plugin declares: a driver for an older minor loads, one for a newer minor is refused', async (t) => {
  await refuses(['--plugin-dir', join(FIXTURES, 'driver-kind'), '--plugin-dir', join(FIXTURES, 'driver-kind-too-new')],
    [/plugin greeter-shiny: greeter driver "shiny" is written for greeter driver API 1\.4\.0, but this daemon's greeter driver API is 1\.3\.0 \(needs 1\.3 or older\)/]);
  const d = await startDaemon({ args: ['--plugin-dir', join(FIXTURES, 'driver-kind')] });
  t.after(() => d.cleanup());
  const { apiRequest } = await import('./helpers/daemon.js');
  assert.deepEqual((await apiRequest(d.socket, 'GET', '/greeters')).json(), {
    greetings: [{ name: 'plain', api: '1.1.0', says: 'hello' }],
    told: ['plain from greeter-plain'],
    hello: 'hello',
  });
});
