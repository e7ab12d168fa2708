// packChanges: a layer's changes as a tar that GNU tar reads back with every attribute, with
// Docker whiteouts, hard links by inode, and the same bytes each time.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { packChanges, type PackEntry } from '../lib/archive/pack.js';
import { extractLayer } from '../lib/archive/index.js';
import { Readable } from 'node:stream';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-pack-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const T = 1_650_000_000;
const longName = `${'deep-folder-name/'.repeat(12)}${'file-name-'.repeat(12)}.txt`; // > 255 bytes in all
const unicode = 'données/résumé.txt';

function makeRoot(root: string): PackEntry[] {
  const entries: PackEntry[] = [];
  const add = (path: string, kind: PackEntry['kind'] = 'entry') => entries.push({ path, kind });
  mkdirSync(join(root, 'bin'));
  writeFileSync(join(root, 'bin/tool'), '#!/bin/sh\necho hi\n');
  execFileSync('chown', ['10:20', join(root, 'bin/tool')]);
  execFileSync('chmod', ['6755', join(root, 'bin/tool')]);
  execFileSync('setfattr', ['-n', 'user.origin', '-v', 'pack-test', join(root, 'bin/tool')]);
  linkSync(join(root, 'bin/tool'), join(root, 'bin/tool-again'));
  symlinkSync('tool', join(root, 'bin/alias'));
  mkdirSync(join(root, 'tmp'), { mode: 0o1777 });
  execFileSync('chmod', ['1777', join(root, 'tmp')]);
  mkdirSync(join(root, 'dev'));
  execFileSync('mknod', ['-m', '640', join(root, 'dev/sda'), 'b', '8', '0']);
  execFileSync('mknod', ['-m', '666', join(root, 'dev/big'), 'c', '300', '70000']);
  execFileSync('mkfifo', [join(root, 'dev/fifo')]);
  mkdirSync(join(root, longName, '..'), { recursive: true });
  writeFileSync(join(root, longName), 'long');
  mkdirSync(join(root, 'données'));
  writeFileSync(join(root, unicode), 'accents');
  mkdirSync(join(root, 'opaque'));
  execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', join(root, 'opaque')]);
  writeFileSync(join(root, 'opaque/new'), 'new');
  for (const p of ['bin/tool', 'bin/tool-again', 'tmp', 'dev/sda', longName, unicode, 'opaque/new']) utimesSync(join(root, p), T, T);
  add('bin'); add('bin/tool'); add('bin/tool-again'); add('bin/alias'); add('bin/removed', 'whiteout');
  add('tmp'); add('dev'); add('dev/sda'); add('dev/big'); add('dev/fifo');
  const parts = longName.split('/');
  for (let i = 1; i <= parts.length; i++) add(parts.slice(0, i).join('/'));
  add('données'); add(unicode);
  add('opaque'); add('opaque', 'opaque'); add('opaque/new');
  return entries;
}

const packed = async (root: string, entries: PackEntry[]) => Buffer.concat(await packChanges(root, entries).toArray());

test('GNU tar reads a packed layer back with contents, owners, modes, times, links, devices and xattrs', async (t) => {
  const dir = tempDir(t);
  const root = join(dir, 'root');
  const out = join(dir, 'out');
  mkdirSync(root);
  mkdirSync(out);
  const tar = await packed(root, makeRoot(root));
  assert.deepEqual(tar.subarray(-1024), Buffer.alloc(1024), 'ends with two zero blocks');
  execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpf', '-', '-C', out], { input: tar });

  const tool = lstatSync(join(out, 'bin/tool'));
  assert.equal(readFileSync(join(out, 'bin/tool'), 'utf8'), '#!/bin/sh\necho hi\n');
  assert.deepEqual([tool.mode & 0o7777, tool.uid, tool.gid, tool.mtimeMs], [0o6755, 10, 20, T * 1000]);
  assert.equal(lstatSync(join(out, 'bin/tool-again')).ino, tool.ino, 'hard link');
  assert.equal(readlinkSync(join(out, 'bin/alias')), 'tool');
  assert.equal(execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'user.origin', join(out, 'bin/tool')]).toString(), 'pack-test');
  assert.equal(lstatSync(join(out, 'tmp')).mode & 0o7777, 0o1777);
  const sda = lstatSync(join(out, 'dev/sda'));
  assert.ok(sda.isBlockDevice());
  assert.deepEqual([sda.rdev, sda.mode & 0o777], [(8 << 8) | 0, 0o640]);
  assert.equal(lstatSync(join(out, 'dev/big')).rdev, lstatSync(join(root, 'dev/big')).rdev, 'major/minor beyond 8 bits');
  assert.ok(lstatSync(join(out, 'dev/fifo')).isFIFO());
  assert.equal(readFileSync(join(out, longName), 'utf8'), 'long');
  assert.equal(readFileSync(join(out, unicode), 'utf8'), 'accents');
  assert.ok(lstatSync(join(out, 'bin/.wh.removed')).isFile(), 'whiteout entry');
  assert.ok(lstatSync(join(out, 'opaque/.wh..wh..opq')).isFile(), 'opaque entry');
  assert.throws(() => execFileSync('getfattr', ['--absolute-names', '-n', 'trusted.overlay.opaque', join(out, 'opaque')], { stdio: 'ignore' }), 'overlay xattrs are not carried');

  const listing = execFileSync('tar', ['--numeric-owner', '-tvf', '-'], { input: tar }).toString().split('\n');
  const order = listing.filter(Boolean).map((line) => line.split(/\s+/).slice(5).join(' '));
  assert.deepEqual(order.slice(0, 5), ['bin/', 'bin/tool', 'bin/tool-again link to bin/tool', 'bin/alias -> tool', 'bin/.wh.removed'], 'entries in the order given');
  assert.ok(order.includes('opaque/.wh..wh..opq'));
});

test('packing is deterministic and extractLayer turns its whiteouts back into overlay whiteouts', async (t) => {
  const dir = tempDir(t);
  const root = join(dir, 'root');
  mkdirSync(root);
  const entries = makeRoot(root);
  const first = await packed(root, entries);
  assert.deepEqual(await packed(root, entries), first);
  const layer = join(dir, 'layer');
  mkdirSync(layer);
  await extractLayer(Readable.from([first]), layer, { whiteouts: 'overlay' });
  assert.ok(lstatSync(join(layer, 'bin/removed')).isCharacterDevice());
  assert.equal(execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'trusted.overlay.opaque', join(layer, 'opaque')]).toString(), 'y');
  assert.equal(lstatSync(join(layer, 'bin/tool')).mode & 0o7777, 0o6755);
});

test('a listed path that leads through a symlink or out of the root is refused', async (t) => {
  const dir = tempDir(t);
  const root = join(dir, 'root');
  mkdirSync(root);
  writeFileSync(join(dir, 'outside'), 'host file');
  symlinkSync(dir, join(root, 'escape'));
  await assert.rejects(packed(root, [{ path: 'escape/outside', kind: 'entry' }]), /"escape" is not a directory/);
  await assert.rejects(packed(root, [{ path: '../outside', kind: 'entry' }]), /escapes the layer/);
  await assert.rejects(packed(root, [{ path: 'missing', kind: 'entry' }]), /ENOENT/);
});
