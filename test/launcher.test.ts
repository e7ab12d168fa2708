// bin/berthd, the launcher: node starts from the start-up snapshot (dist/bundle/berthd.blob) when it
// is current, else from the bundle, else from tsc's output; what is older than tsc's output is stale
// code and never runs. Node refuses a snapshot made by another node binary or under other V8
// options, so the snapshot is also passed over then (a newer or other node; NODE_OPTIONS with
// --max-old-space-size) instead of a daemon that does not start. Checked on a copy of the launcher
// beside stand-in builds that say which one ran.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BERTHD, makeTempDir, startDaemon } from './helpers/daemon.js';

test('berthd runs the daemon from the start-up snapshot', async (t) => {
  const d = await startDaemon();
  t.after(() => d.cleanup());
  const pid = Number(readFileSync(d.pidfile, 'utf8'));
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  assert.equal(cmdline[1], '--snapshot-blob', cmdline.join(' '));
  assert.match(cmdline[2], /dist\/bundle\/berthd\.blob$/);
});

test('the launcher passes over stale builds, and a snapshot another node or other V8 options could not load', (t) => {
  const dir = makeTempDir('berth-launcher-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'dist/core'), { recursive: true });
  mkdirSync(join(dir, 'dist/bundle/core'), { recursive: true });
  copyFileSync(BERTHD, join(dir, 'bin/berthd'));
  chmodSync(join(dir, 'bin/berthd'), 0o755);
  const tsc = join(dir, 'dist/core/main.js');
  const bundle = join(dir, 'dist/bundle/core/main.js');
  const blob = join(dir, 'dist/bundle/berthd.blob');
  writeFileSync(tsc, "console.log('tsc', process.argv.slice(2).join(' '));\n");
  writeFileSync(bundle, "console.log('bundle', process.argv.slice(2).join(' '));\n");
  const entry = join(dir, 'snapshot-entry.cjs');
  writeFileSync(join(dir, 'nothing.cjs'), '');
  writeFileSync(entry, "require('v8').startupSnapshot.setDeserializeMainFunction(() => console.log('snapshot', process.argv.slice(1).join(' ')));\n");
  const made = spawnSync(process.execPath, ['--snapshot-blob', blob, '--build-snapshot', entry], { cwd: dir, encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  // A node on PATH whose binary has a time we choose (a wrapper of this test's node).
  const nodeDir = join(dir, 'node-bin');
  mkdirSync(nodeDir);
  const node = join(nodeDir, 'node');
  writeFileSync(node, `#!/bin/sh\nexec ${process.execPath} "$@"\n`);
  chmodSync(node, 0o755);
  writeFileSync(join(dir, 'dist/bundle/berthd.node'), `${node}\n`);
  const at = (file: string, seconds: number) => utimesSync(file, seconds, seconds);
  const ran = (nodeOptions = '') => {
    const r = spawnSync(join(dir, 'bin/berthd'), ['--data-root', '/x', '-H', 'unix:///y'], {
      encoding: 'utf8', env: { ...process.env, PATH: `${nodeDir}:${process.env.PATH}`, NODE_OPTIONS: nodeOptions },
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  at(node, 1_000);
  at(tsc, 2_000);
  at(bundle, 3_000);
  at(blob, 3_000);
  assert.equal(ran(), 'snapshot --data-root /x -H unix:///y');
  // node's own options keep the snapshot; a V8 option would make node refuse it.
  assert.equal(ran(`--require ${join(dir, 'nothing.cjs')} --enable-source-maps`), 'snapshot --data-root /x -H unix:///y');
  assert.equal(ran('--max-old-space-size=2048'), 'bundle --data-root /x -H unix:///y');
  assert.equal(ran('--enable-source-maps --stack-trace-limit=50'), 'bundle --data-root /x -H unix:///y');
  // Made by another node binary.
  writeFileSync(join(dir, 'dist/bundle/berthd.node'), '/opt/other/node\n');
  assert.equal(ran(), 'bundle --data-root /x -H unix:///y');
  writeFileSync(join(dir, 'dist/bundle/berthd.node'), `${node}\n`);
  at(node, 4_000); // node upgraded after the build
  assert.equal(ran(), 'bundle --data-root /x -H unix:///y');
  at(node, 1_000);
  at(tsc, 5_000); // tsc run alone after the build: both the snapshot and the bundle are stale
  assert.equal(ran(), 'tsc --data-root /x -H unix:///y');
  at(bundle, 6_000);
  assert.equal(ran(), 'bundle --data-root /x -H unix:///y');
  rmSync(tsc);
  const r = spawnSync(join(dir, 'bin/berthd'), [], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /not built yet; run `npm ci && npm run build`/);
});
