// Start-up: what the daemon loads before it answers. ajv's compiler alone costs ~100-200 ms of
// start-up, so the schemas the build knows (manifests, configuration, jobs without a payload)
// must be served by the build's precompiled validators, and /_ping must answer without it.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { apiRequest, makeTempDir, runBerthd, startDaemon } from './helpers/daemon.js';

/** A preload that writes, when the process exits, every CommonJS module it loaded. */
function moduleRecorder(dir: string): { env: NodeJS.ProcessEnv; loaded: () => string[] } {
  const preload = join(dir, 'record-modules.cjs');
  const out = join(dir, 'modules.txt');
  writeFileSync(preload, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, Object.keys(require.cache).join('\\n')));\n`);
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

test('the daemon answers /_ping and /version without loading the ajv compiler', async (t) => {
  const dir = makeTempDir();
  const rec = moduleRecorder(dir);
  const d = await startDaemon({ dir, env: rec.env });
  t.after(async () => {
    await d.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  assert.equal((await apiRequest(d.socket, 'GET', '/_ping')).body, 'OK');
  assert.equal((await apiRequest(d.socket, 'GET', '/version')).json().Platform.Name, 'Berth');
  // Once up, the daemon makes the request bodies' validators ahead of need: the build's too.
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(await d.stop(), 0);
  assert.deepEqual(ajvCompiler(rec.loaded()), []);
});
