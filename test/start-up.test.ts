// Start-up: what the daemon loads before it answers. ajv's compiler alone costs ~100-200 ms of
// start-up, so the schemas the build knows (manifests, configuration, jobs without a payload)
// must be served by the build's precompiled validators, and /_ping must answer without it.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { apiRequest, makeTempDir, runBerthd, startDaemon } from './helpers/daemon.js';
import { startInProcessDaemon } from './helpers/in-process.js';

/** A preload that writes, when the process exits, every CommonJS module its main thread loaded. */
function moduleRecorder(dir: string): { env: NodeJS.ProcessEnv; loaded: () => string[] } {
  const preload = join(dir, 'record-modules.cjs');
  const out = join(dir, 'modules.txt');
  // Worker threads run the preload too: only the main thread (threadId 0) writes.
  writeFileSync(preload, `if (require('worker_threads').threadId === 0) process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, Object.keys(require.cache).join('\\n')));\n`);
  return {
    env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${preload}`.trim() },
    loaded: () => readFileSync(out, 'utf8').split('\n').filter(Boolean),
  };
}

/** ajv's own modules, except the small runtime helpers the precompiled validators call. */
const ajvCompiler = (modules: string[]) => modules.filter((m) => m.includes('/node_modules/ajv/') && !m.includes('/node_modules/ajv/dist/runtime/'));

test('--validate checks every manifest and the configuration without loading the ajv compiler', async (t) => {
  const dir = makeTempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'daemon.json');
  writeFileSync(file, JSON.stringify({ debug: false, 'storage-driver': 'vfs' }));
  const rec = moduleRecorder(dir);
  const r = await runBerthd(['--config-file', file, '--validate'], rec.env);
  assert.equal(r.stdout, 'configuration OK\n');
  assert.deepEqual(ajvCompiler(rec.loaded()), []);
  // The precompiled validators still name the field, as ajv does.
  writeFileSync(file, JSON.stringify({ debug: 'yes' }));
  const bad = await runBerthd(['--config-file', file, '--validate'], rec.env, { expectCode: 1 });
  assert.match(bad.stderr, /debug: must be boolean/);
  assert.deepEqual(ajvCompiler(rec.loaded()), []);
});

/** A daemon whose main thread's modules are recorded (read them once it stopped). */
async function recordedDaemon(t: TestContext) {
  const dir = makeTempDir();
  const rec = moduleRecorder(dir);
  const d = await startDaemon({ dir, env: rec.env });
  t.after(async () => {
    await d.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  return { d, rec };
}

test('the daemon answers /_ping and /version without loading the ajv compiler', async (t) => {
  const { d, rec } = await recordedDaemon(t);
  assert.equal((await apiRequest(d.socket, 'GET', '/_ping')).body, 'OK');
  assert.equal((await apiRequest(d.socket, 'GET', '/version')).json().Platform.Name, 'Berth');
  // Once up, the daemon makes the request bodies' validators ahead of need: the build's too.
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(await d.stop(), 0);
  assert.deepEqual(ajvCompiler(rec.loaded()), []);
});

test('job payloads the build did not precompile are checked off the main thread, and still refused naming the field', async (t) => {
  const { d, rec } = await recordedDaemon(t);
  // container.list, container.start and network.inspect carry schemas made at run time: their
  // validators come from the compiler thread.
  assert.deepEqual((await apiRequest(d.socket, 'GET', '/containers/json?all=1')).json(), []);
  const start = await apiRequest(d.socket, 'POST', '/containers/nope/start');
  assert.equal(start.status, 404, start.body);
  assert.equal((await apiRequest(d.socket, 'GET', '/networks/none')).json().Name, 'none');
  assert.equal(await d.stop(), 0);
  assert.deepEqual(ajvCompiler(rec.loaded()), []);
});

test('a malformed job payload is refused naming the field when its validator comes from the compiler thread', async (t) => {
  const dir = makeTempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const daemon = await startInProcessDaemon(dir);
  try {
    // Two at once: both wait for the one compilation.
    const [a, b] = await Promise.allSettled([
      daemon.engine.run('container.rename', { name: 'x', newName: 5 }),
      daemon.engine.run('container.rename', { name: 'x', newName: 6 }),
    ]);
    for (const r of [a, b]) {
      assert.equal(r.status, 'rejected');
      assert.match(String((r as PromiseRejectedResult).reason.message), /invalid payload for job container\.rename: container\.rename\.newName: must be string/);
    }
    // The same validator, now cached, refuses the same way.
    await assert.rejects(daemon.engine.run('container.rename', { name: 'x' }), /container\.rename\.newName: is required/);
    // Once the idle thread has ended, the next new schema starts another.
    await new Promise((r) => setTimeout(r, 2_500));
    await assert.rejects(daemon.engine.run('container.top', { name: 'x', psArgs: 7 }), /container\.top\.psArgs: must be string/);
  } finally {
    await daemon.shutdown();
  }
});
