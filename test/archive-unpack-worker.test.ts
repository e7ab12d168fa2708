// Layers unpacked in worker threads (plugins/graph/archive/unpack-pool.ts): what the layer store
// records comes out right, a failing source stops the worker before the promise answers, and idle
// workers never keep the process (the daemon) alive.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { assembleTarSplit, unpackLayer } from '../lib/archive/index.js';
import { buildTar, type TarSpec } from './helpers/tar-build.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-unpack-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** 200 files of 20 KiB in 10 folders: about 4 MB, several worker windows' worth when fed slowly. */
const manyFiles: TarSpec[] = Array.from({ length: 10 }, (_, d) => [
  { name: `d${d}/`, type: 'dir' as const },
  ...Array.from({ length: 20 }, (_, f) => ({ name: `d${d}/f${f}`, data: Buffer.alloc(20_480, d * 20 + f) })),
]).flat();

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function countFiles(dir: string): number {
  return readdirSync(dir, { recursive: true }).length;
}

test('a gzip layer unpacked in a worker: diffID and size of the tar inside, and a tar-split that rebuilds it byte for byte', async (t) => {
  const dir = tempDir(t);
  const tar = buildTar(manyFiles);
  const gz = gzipSync(tar);
  const chunks: Buffer[] = [];
  for (let i = 0; i < gz.length; i += 65_536) chunks.push(gz.subarray(i, i + 65_536));
  const r = await unpackLayer(Readable.from(chunks), dir, 'overlay', 'test layer');
  assert.equal(r.diffId, sha256(tar));
  assert.equal(r.tarSize, tar.length);
  assert.equal(r.size, 200 * 20_480);
  assert.equal(r.entries, manyFiles.length);
  assert.deepEqual(readFileSync(join(dir, 'd3/f7')), Buffer.alloc(20_480, 67));
  const rebuilt = await collect(assembleTarSplit(r.tarSplit, (path) => Readable.from([readFileSync(join(dir, path))])));
  assert.equal(sha256(rebuilt), sha256(tar));
});

test('a source that fails mid-layer: the promise gives the source\'s own error once the worker stopped writing, and the next layer unpacks', async (t) => {
  const dir = tempDir(t);
  const tar = buildTar(manyFiles);
  const failure = new Error('the download failed its digest');
  async function* halfThenFail() {
    for (let i = 0; i < tar.length / 2; i += 16_384) {
      yield tar.subarray(i, i + 16_384);
      await sleep(1); // arrives over time, so the worker is busy writing when it fails
    }
    throw failure;
  }
  const target = join(dir, 'failed');
  mkdirSync(target);
  await assert.rejects(unpackLayer(Readable.from(halfThenFail()), target, 'overlay', 'test layer'), (err) => err === failure);
  const written = countFiles(target);
  assert.ok(written > 0 && written < 210, `part of the layer was written before the failure: ${written}`);
  await sleep(300);
  assert.equal(countFiles(target), written, 'nothing is written after the promise answered');

  const next = join(dir, 'next');
  mkdirSync(next);
  const r = await unpackLayer(Readable.from([tar]), next, 'delete', 'test layer');
  assert.equal(r.diffId, sha256(tar));
  assert.equal(countFiles(next), 210);
});

test('a source destroyed by its owner (a cancelled pull) while the worker waits for data: the promise gives that error', async (t) => {
  const dir = tempDir(t);
  const tar = buildTar(manyFiles);
  const source = new Readable({ read() {} });
  source.push(tar.subarray(0, 100_000));
  const cancelled = new Error('layer chain registration cancelled');
  const unpacking = unpackLayer(source, dir, 'overlay', 'test layer');
  setTimeout(() => source.destroy(cancelled), 100);
  await assert.rejects(unpacking, (err) => err === cancelled);
});

test('a source cancelled while all workers are busy: that error, and the busy layers still finish', async (t) => {
  const dir = tempDir(t);
  const tar = buildTar(manyFiles);
  // More layers than workers (at most 4): the last waits for a worker when it is cancelled.
  const sources = Array.from({ length: 5 }, () => new Readable({ read() {} }));
  const targets = sources.map((_, i) => join(dir, `layer${i}`));
  for (const d of targets) mkdirSync(d);
  for (const s of sources) s.push(tar.subarray(0, 4096));
  const unpacking = sources.map((s, i) => unpackLayer(s, targets[i], 'overlay', `layer ${i}`));
  const cancelled = new Error('layer chain registration cancelled');
  await sleep(100);
  sources[4].destroy(cancelled);
  await assert.rejects(unpacking[4], (err) => err === cancelled);
  for (const s of sources.slice(0, 4)) { s.push(tar.subarray(4096)); s.push(null); }
  const done = await Promise.all(unpacking.slice(0, 4));
  assert.ok(done.every((r) => r.diffId === sha256(tar)));
});

test('an archive the extractor refuses: the coded error names the layer and the entry', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(
    unpackLayer(Readable.from([buildTar([{ name: '../escape', data: 'x' }])]), dir, 'overlay', 'graphdriver.test: applying diff to layer L'),
    { code: 'E_INVALID', message: 'graphdriver.test: applying diff to layer L: invalid layer archive: entry "../escape": path escapes the layer' },
  );
  assert.deepEqual(readdirSync(dir), []);
});

test('idle unpacking workers do not keep the process alive (the daemon exits when its work is done)', async (t) => {
  const dir = tempDir(t);
  const pool = fileURLToPath(new URL('../lib/archive/index.js', import.meta.url));
  // The process unpacks one layer and has nothing else to do: it must end, although its worker
  // would idle for ten minutes (BERTH_UNPACK_IDLE_MS) before ending by itself.
  const script = `
    const { unpackLayer } = await import(${JSON.stringify(pool)});
    const { Readable } = await import('node:stream');
    const tar = Buffer.from(process.argv[2], 'base64');
    const r = await unpackLayer(Readable.from([tar]), process.argv[3], 'overlay', 'child');
    process.stdout.write(r.diffId);
  `;
  const file = join(dir, 'unpack-one.mjs');
  writeFileSync(file, script);
  const into = join(dir, 'layer');
  mkdirSync(into);
  const child = spawn(process.execPath, [file, buildTar([{ name: 'hello', data: 'hi\n' }]).toString('base64'), into], {
    env: { ...process.env, BERTH_UNPACK_IDLE_MS: '600000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b));
  child.stderr.on('data', (b: Buffer) => (err += b));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const code = await Promise.race([exited, sleep(60_000).then(() => 'still running')]);
  assert.equal(code, 0, `the child ended by itself: ${err}`);
  assert.match(out, /^sha256:[0-9a-f]{64}$/);
  assert.equal(readFileSync(join(into, 'hello'), 'utf8'), 'hi\n');
});
