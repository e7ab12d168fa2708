// tar-split: record a layer archive, extract it, rebuild it from the extracted folder: the same
// bytes (sha256) as the original, from GNU tar's formats, the test writer and packChanges.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createReadStream, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import {
  assembleTarSplit, extractLayer, packChanges, recordTarSplit, type TarSplitRecord,
} from '../lib/archive/index.js';
import { buildTar } from './helpers/tar-build.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tar-split-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function sha256(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const sha256Of = (buf: Buffer) => createHash('sha256').update(buf).digest('hex');

/** Record, extract, rebuild; returns the record after checking the rebuilt bytes. */
async function roundTrip(t: TestContext, tar: Buffer): Promise<TarSplitRecord> {
  const layer = tempDir(t);
  const record = await recordTarSplit(Readable.from([tar]));
  const extracted = await extractLayer(Readable.from([tar]), layer, { whiteouts: 'overlay', tarSplit: true });
  assert.deepEqual(extracted.tarSplit, record, 'recording while extracting gives the same record');
  const rebuilt = assembleTarSplit(JSON.parse(JSON.stringify(record)) as TarSplitRecord, (path) => createReadStream(join(layer, path)));
  assert.equal(await sha256(rebuilt), sha256Of(tar), 'rebuilt archive has the same digest');
  return record;
}

const recordBytes = (record: TarSplitRecord) => JSON.stringify(record).length;

function makeTree(root: string): void {
  const long = join(root, `${'nested-directory-'.repeat(5)}a`, `${'deeper-'.repeat(12)}b`);
  mkdirSync(long, { recursive: true });
  writeFileSync(join(long, `${'a-very-long-file-name-'.repeat(5)}.txt`), 'long path content\n');
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n', { mode: 0o644 });
  writeFileSync(join(root, 'etc/block'), Buffer.alloc(1024, 7)); // a multiple of 512: no padding
  writeFileSync(join(root, 'empty'), '');
  writeFileSync(join(root, 'random.bin'), randomBytes(1 << 20));
  writeFileSync(join(root, 'suid'), '#!/bin/sh\n', { mode: 0o4755 });
  execFileSync('chmod', ['4755', join(root, 'suid')]);
  execFileSync('chown', ['1000:1000', join(root, 'suid')]);
  for (let i = 0; i < 50; i++) writeFileSync(join(root, 'etc', `file-${i}.conf`), `setting ${i}\n`.repeat(200));
  symlinkSync('etc/passwd', join(root, 'rel-link'));
  symlinkSync(`/${'far/'.repeat(40)}target`, join(root, 'long-link'));
  linkSync(join(root, 'etc/passwd'), join(root, 'hard-link'));
  linkSync(join(root, 'random.bin'), join(root, 'etc/random-again'));
  execFileSync('mknod', [join(root, 'null'), 'c', '1', '3']);
  execFileSync('mkfifo', [join(root, 'fifo')]);
  execFileSync('setfattr', ['-n', 'user.comment', '-v', 'kept', join(root, 'etc/passwd')]);
}

for (const format of ['gnu', 'posix', 'oldgnu']) {
  test(`a GNU tar archive (--format=${format}) is rebuilt byte for byte from its extracted layer`, async (t) => {
    const dir = tempDir(t);
    const src = join(dir, 'src');
    mkdirSync(src);
    makeTree(src);
    const args = [`--format=${format}`, ...(format === 'posix' ? ['--xattrs', '--xattrs-include=user.*'] : []), '-C', src, '-cf', '-', '.'];
    const tar = execFileSync('tar', args, { maxBuffer: 64 << 20 });
    const record = await roundTrip(t, tar);
    assert.ok(recordBytes(record) < tar.length * 0.02, `record of ${recordBytes(record)} bytes for ${tar.length} bytes`);
    // random.bin or its hard link, whichever tar met first: the content is read back from the layer.
    const big = record.items.filter((item) => Array.isArray(item) && item[1] === 1 << 20);
    assert.equal(big.length, 1, 'file content is not stored in the record');
  });
}

test('archives from the test writer: GNU and PAX long names, base-256, global PAX, whiteouts with data, trailing zeros', async (t) => {
  const tar = buildTar([
    { name: 'dir/', type: 'dir' },
    { name: `dir/${'x'.repeat(150)}`, data: 'gnu long name' },
    { name: `dir/${'y'.repeat(150)}`, data: 'pax long name', longName: 'pax' },
    { name: 'link', type: 'symlink', linkname: `/${'z'.repeat(200)}` },
    { name: 'big', data: 'base-256', uid: 5_000_000, base256: ['uid', 'size', 'mtime'] },
    { name: 'dir/.wh.gone', data: 'whiteouts keep their data in the record' },
    { name: 'hard', type: 'link', linkname: 'big' },
    { name: 'odd', data: Buffer.alloc(513, 1) },
  ], { extraZeros: 9000, globalPax: { comment: 'global header' } });
  const record = await roundTrip(t, tar);
  assert.equal(record.items.filter(Array.isArray).length, 4, 'four files read back from the layer');
});

test('a packChanges archive is recorded and rebuilt too', async (t) => {
  const src = tempDir(t);
  makeTree(src);
  const tar = Buffer.concat(await packChanges(src, [
    { path: 'etc', kind: 'entry' }, { path: 'etc/passwd', kind: 'entry' }, { path: 'hard-link', kind: 'entry' },
    { path: 'random.bin', kind: 'entry' }, { path: 'null', kind: 'entry' }, { path: 'gone', kind: 'whiteout' },
  ]).toArray());
  const record = await roundTrip(t, tar);
  assert.ok(recordBytes(record) < tar.length * 0.02);
});

test('many small files keep the record to a few per cent of the archive', async (t) => {
  const entries = Array.from({ length: 500 }, (_, i) => ({ name: `usr/share/doc/package-${i}/copyright`, data: `Copyright ${i}\n`.repeat(150), mode: 0o644, mtime: 1_700_000_000 + i }));
  const tar = buildTar(entries);
  const record = await roundTrip(t, tar);
  assert.ok(recordBytes(record) < tar.length * 0.05, `record of ${recordBytes(record)} bytes for ${tar.length} bytes`);
});

test('a layer file of another size than recorded fails the rebuild; a damaged record is refused', async (t) => {
  const layer = tempDir(t);
  const tar = buildTar([{ name: 'f', data: 'four' }]);
  const record = (await extractLayer(Readable.from([tar]), layer, { whiteouts: 'overlay', tarSplit: true })).tarSplit!;
  writeFileSync(join(layer, 'f'), 'five!');
  await assert.rejects(sha256(assembleTarSplit(record, (p) => createReadStream(join(layer, p)))), /layer file "f" is longer than the 4 bytes recorded/);
  writeFileSync(join(layer, 'f'), 'fou');
  await assert.rejects(sha256(assembleTarSplit(record, (p) => createReadStream(join(layer, p)))), /shorter/);
  writeFileSync(join(layer, 'f'), 'four');
  assert.equal(await sha256(assembleTarSplit(record, (p) => createReadStream(join(layer, p)))), sha256Of(tar));
  const truncated = { ...record, items: [...record.items, 10] };
  await assert.rejects(sha256(assembleTarSplit(truncated, (p) => createReadStream(join(layer, p)))), /invalid tar-split record: segments end early/);
  assert.ok(readFileSync(join(layer, 'f')).length === 4);
});
