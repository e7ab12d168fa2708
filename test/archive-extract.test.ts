// Layer extraction: every entry type with its metadata, gzip, both whiteout modes, replacement.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import { isGzip, decompressed, type WhiteoutMode } from '../lib/archive/index.js';
import { EXTRACTORS, extractWith, type Extractor } from './helpers/extract-via.js';
import { buildTar, type TarSpec } from './helpers/tar-build.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-archive-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function extractVia(via: Extractor, tar: Buffer, target: string, whiteouts: WhiteoutMode = 'overlay') {
  // Small chunks: headers and data cross chunk boundaries.
  const chunks: Buffer[] = [];
  for (let i = 0; i < tar.length; i += 777) chunks.push(tar.subarray(i, i + 777));
  return extractWith(via, Readable.from(chunks), target, whiteouts);
}

function xattr(path: string, name: string): Buffer | null {
  try {
    return execFileSync('getfattr', ['-h', '--only-values', '-n', name, path], { stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
}

const T1 = 1_500_000_000;
const T2 = 1_600_000_000;
const longDir = `${'long-directory-name-'.repeat(4)}x`; // 81 bytes
const longName = `${longDir}/${'a-file-with-a-long-name-'.repeat(3)}end`; // well over 100 bytes
const paxName = `${longDir}/${'pax-named-file-'.repeat(7)}é`;

const everyType: TarSpec[] = [
  { name: 'd/', type: 'dir', mode: 0o750, uid: 1000, gid: 1001, mtime: T1 },
  { name: 'd/f', data: 'hello world\n', mode: 0o4755, uid: 1000, gid: 1001, mtime: T2 },
  { name: 'd/g', data: 'x'.repeat(1000), mode: 0o2711, uid: 0, gid: 50, mtime: T2 },
  { name: 'sticky/', type: 'dir', mode: 0o1777, mtime: T1 },
  { name: 'd/l', type: 'symlink', linkname: 'f', uid: 1002, gid: 1003, mtime: T1 },
  { name: 'd/h', type: 'link', linkname: 'd/f', mode: 0o4755, uid: 1000, gid: 1001, mtime: T2 },
  { name: 'dev/', type: 'dir', mode: 0o755, mtime: T1 },
  { name: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666, mtime: T1 },
  { name: 'dev/loop9', type: 'block', devmajor: 7, devminor: 9, mode: 0o660, gid: 6, mtime: T1 },
  { name: 'pipe', type: 'fifo', mode: 0o620, uid: 7, mtime: T1 },
  { name: 'xattrs', data: 'with attributes', mode: 0o644, mtime: T2, pax: { 'SCHILY.xattr.user.note': 'a note', 'SCHILY.xattr.trusted.bin': Buffer.from([0, 1, 2, 255]) } },
  { name: 'fraction', data: '', mtime: T2, pax: { mtime: '1600000000.25' } },
  { name: 'big-ids', data: 'ids', uid: 3_000_000, gid: 4_000_000, base256: ['uid', 'gid'], mtime: T2 },
  { name: `${longDir}/`, type: 'dir', mtime: T1 },
  { name: longName, data: 'long gnu name' },
  { name: paxName, data: 'long pax name', longName: 'pax' },
  { name: 'long-link', type: 'symlink', linkname: `${longDir}/${'target-'.repeat(20)}` },
];

for (const via of EXTRACTORS) {
  const extract = (tar: Buffer, target: string, whiteouts: WhiteoutMode = 'overlay') => extractVia(via, tar, target, whiteouts);

  test(`[${via}] every entry type is extracted with its ownership, mode, times and xattrs`, async (t) => {
    const target = tempDir(t);
    const result = await extract(buildTar(everyType), target);
    const contentBytes = 12 + 1000 + 15 + 3 + 13 + 13;
    assert.deepEqual(result, { size: contentBytes, entries: everyType.length });

    const d = lstatSync(join(target, 'd'));
    assert.ok(d.isDirectory());
    assert.equal(d.mode & 0o7777, 0o750);
    assert.deepEqual([d.uid, d.gid, d.mtimeMs], [1000, 1001, T1 * 1000], 'directory time set after its children were written');

    const f = lstatSync(join(target, 'd/f'));
    assert.equal(readFileSync(join(target, 'd/f'), 'utf8'), 'hello world\n');
    assert.equal(f.mode & 0o7777, 0o4755, 'setuid survives chown');
    assert.deepEqual([f.uid, f.gid, f.mtimeMs], [1000, 1001, T2 * 1000]);
    assert.equal(lstatSync(join(target, 'd/g')).mode & 0o7777, 0o2711, 'setgid');
    assert.equal(lstatSync(join(target, 'd/g')).gid, 50);
    assert.equal(lstatSync(join(target, 'sticky')).mode & 0o7777, 0o1777, 'sticky');

    const l = lstatSync(join(target, 'd/l'));
    assert.ok(l.isSymbolicLink());
    assert.equal(readlinkSync(join(target, 'd/l')), 'f');
    assert.deepEqual([l.uid, l.gid, l.mtimeMs], [1002, 1003, T1 * 1000], 'symlink owner and time are its own');

    const h = lstatSync(join(target, 'd/h'));
    assert.equal(h.ino, f.ino, 'hard link shares the inode');
    assert.equal(h.nlink, 2);

    const nul = lstatSync(join(target, 'dev/null'));
    assert.ok(nul.isCharacterDevice());
    assert.equal(nul.rdev, (1 << 8) | 3);
    assert.equal(nul.mode & 0o7777, 0o666);
    const loop = lstatSync(join(target, 'dev/loop9'));
    assert.ok(loop.isBlockDevice());
    assert.equal(loop.rdev, (7 << 8) | 9);
    assert.equal(loop.gid, 6);
    const pipe = lstatSync(join(target, 'pipe'));
    assert.ok(pipe.isFIFO());
    assert.deepEqual([pipe.mode & 0o7777, pipe.uid], [0o620, 7]);

    assert.equal(xattr(join(target, 'xattrs'), 'user.note')?.toString(), 'a note');
    assert.deepEqual(xattr(join(target, 'xattrs'), 'trusted.bin'), Buffer.from([0, 1, 2, 255]));
    assert.equal(lstatSync(join(target, 'fraction')).mtimeMs, 1_600_000_000_250, 'PAX mtime with a fraction');
    const ids = lstatSync(join(target, 'big-ids'));
    assert.deepEqual([ids.uid, ids.gid], [3_000_000, 4_000_000], 'base-256 numbers');

    assert.equal(readFileSync(join(target, longName), 'utf8'), 'long gnu name');
    assert.equal(readFileSync(join(target, paxName), 'utf8'), 'long pax name');
    assert.equal(readlinkSync(join(target, 'long-link')), `${longDir}/${'target-'.repeat(20)}`);
    assert.equal(lstatSync(join(target, longDir)).mtimeMs, T1 * 1000);
  });

  test(`[${via}] a gzip layer is decompressed; zstd and truncated archives are refused`, async (t) => {
    const tar = buildTar([{ name: 'etc/', type: 'dir' }, { name: 'etc/hostname', data: 'berth\n' }]);
    const gz = gzipSync(tar);
    assert.ok(isGzip(gz));
    assert.ok(!isGzip(tar));
    const target = tempDir(t);
    assert.deepEqual(await extract(gz, target), { size: 6, entries: 2 });
    assert.equal(readFileSync(join(target, 'etc/hostname'), 'utf8'), 'berth\n');

    const plain = await decompressed(Readable.from([tar]));
    const back: Buffer[] = [];
    for await (const chunk of plain) back.push(chunk as Buffer);
    assert.deepEqual(Buffer.concat(back), tar, 'an uncompressed input comes back whole');

    const zstd = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(100)]);
    await assert.rejects(extract(zstd, tempDir(t)), { code: 'E_INVALID', message: /zstd-compressed layers are not supported/ });
    await assert.rejects(extract(tar.subarray(0, 600), tempDir(t)), { code: 'E_INVALID', message: /unexpected end of archive/ });
    const badSum = Buffer.from(tar);
    badSum[10] ^= 1;
    await assert.rejects(extract(badSum, tempDir(t)), { code: 'E_INVALID', message: /bad header checksum/ });
    await assert.rejects(extract(gz.subarray(0, gz.length - 30), tempDir(t)), { code: 'E_INVALID' });
  });

  test(`[${via}] overlay whiteouts become 0/0 character devices and opaque directories get the overlay xattr`, async (t) => {
    const target = tempDir(t);
    const result = await extract(buildTar([
      { name: 'a/', type: 'dir' },
      { name: 'a/.wh.gone', uid: 5, gid: 6 },
      { name: 'c/', type: 'dir', mode: 0o711 },
      { name: 'c/.wh..wh..opq' },
      { name: 'c/new', data: 'new' },
      { name: '.wh..wh.plnk/123', data: 'aufs metadata is skipped' },
    ]), target);
    assert.equal(result.size, 3);
    const gone = lstatSync(join(target, 'a/gone'));
    assert.ok(gone.isCharacterDevice());
    assert.equal(gone.rdev, 0);
    assert.deepEqual([gone.uid, gone.gid], [5, 6]);
    assert.equal(xattr(join(target, 'c'), 'trusted.overlay.opaque')?.toString(), 'y');
    assert.equal(lstatSync(join(target, 'c')).mode & 0o7777, 0o711);
    assert.equal(readFileSync(join(target, 'c/new'), 'utf8'), 'new');
    assert.deepEqual(readdirSync(target).sort(), ['a', 'c']);
    assert.deepEqual(readdirSync(join(target, 'a')), ['gone']);
  });

  test(`[${via}] delete whiteouts remove from the parent copy; an opaque directory keeps only this layer`, async (t) => {
    const target = tempDir(t);
    // The parent layer, as vfs copies it.
    for (const dir of ['a/b/deep', 'a/keep', 'c/sub', 'e']) mkdirSync(join(target, dir), { recursive: true });
    for (const file of ['a/b/deep/x', 'a/file', 'c/old', 'c/sub/old2', 'c/first', 'e/stay']) writeFileSync(join(target, file), 'lower');
    await extract(buildTar([
      { name: 'a/.wh.b' },
      { name: 'a/.wh.file' },
      { name: 'a/.wh.not-there' },
      { name: 'missing/.wh.x' },
      { name: 'c/', type: 'dir' },
      { name: 'c/first', data: 'this layer' },
      { name: 'c/.wh..wh..opq' },
      { name: 'c/sub/new', data: 'new' },
      { name: 'c/new', data: 'new' },
    ]), target, 'delete');
    assert.deepEqual(readdirSync(join(target, 'a')), ['keep']);
    assert.deepEqual(readdirSync(join(target, 'c')).sort(), ['first', 'new', 'sub']);
    assert.equal(readFileSync(join(target, 'c/first'), 'utf8'), 'this layer', 'written before the opaque marker: kept');
    assert.deepEqual(readdirSync(join(target, 'c/sub')), ['new'], 'lower content of a subdirectory is hidden too');
    assert.deepEqual(readdirSync(join(target, 'e')), ['stay']);
    assert.deepEqual(readdirSync(target).sort(), ['a', 'c', 'e'], 'no marker files, no folder made for a whiteout alone');
    assert.equal(xattr(join(target, 'c'), 'trusted.overlay.opaque'), null);
  });

  test(`[${via}] a later entry replaces an earlier one of the same name`, async (t) => {
    const target = tempDir(t);
    writeFileSync(join(target, 'lower-file'), 'lower');
    mkdirSync(join(target, 'lower-dir/sub'), { recursive: true });
    await extract(buildTar([
      { name: 'x', data: 'one' },
      { name: 'x', data: 'two', mode: 0o600 },
      { name: 'y/', type: 'dir' },
      { name: 'y/z', data: 'z' },
      { name: 'y', data: 'now a file' },
      { name: 's', type: 'symlink', linkname: '/etc' },
      { name: 's/', type: 'dir', mode: 0o700 },
      { name: 'q', data: 'file' },
      { name: 'q', type: 'symlink', linkname: 'x' },
      { name: 'lower-file', type: 'dir' },
      { name: 'lower-dir', type: 'fifo' },
      { name: './', type: 'dir', mode: 0o751, mtime: T1 },
    ]), target, 'delete');
    assert.equal(readFileSync(join(target, 'x'), 'utf8'), 'two');
    assert.equal(statSync(join(target, 'x')).mode & 0o777, 0o600);
    assert.equal(readFileSync(join(target, 'y'), 'utf8'), 'now a file');
    assert.ok(lstatSync(join(target, 's')).isDirectory());
    assert.equal(lstatSync(join(target, 's')).mode & 0o777, 0o700);
    assert.equal(readlinkSync(join(target, 'q')), 'x');
    assert.ok(lstatSync(join(target, 'lower-file')).isDirectory());
    assert.ok(lstatSync(join(target, 'lower-dir')).isFIFO());
    assert.equal(lstatSync(target).mode & 0o7777, 0o751, 'a "./" entry describes the layer root');
    assert.equal(lstatSync(target).mtimeMs, T1 * 1000);
  });
}
