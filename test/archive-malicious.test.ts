// Malicious layer archives (security notes 2.1): each is refused with an error naming the entry,
// or made harmless, and a sentinel folder beside the target stays byte for byte the same.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { recordTarSplit, type WhiteoutMode } from '../lib/archive/index.js';
import { EXTRACTORS, extractWith, type Extractor } from './helpers/extract-via.js';
import { buildTar, type TarSpec } from './helpers/tar-build.js';

interface Scene {
  dir: string;
  target: string;
  sentinel: string;
}

function scene(t: TestContext): Scene {
  const dir = mkdtempSync(join(tmpdir(), 'berth-malicious-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const target = join(dir, 'target');
  const sentinel = join(dir, 'sentinel');
  mkdirSync(target);
  mkdirSync(join(sentinel, 'sub'), { recursive: true });
  writeFileSync(join(sentinel, 'secret'), 'do not touch\n', { mode: 0o600 });
  writeFileSync(join(sentinel, 'sub/inner'), 'inner\n');
  symlinkSync('secret', join(sentinel, 'link'));
  return { dir, target, sentinel };
}

/** Everything about a tree: names, types, modes, owners, times, link counts, contents, xattrs. */
function snapshot(root: string): string {
  const lines: string[] = [];
  const walk = (rel: string) => {
    const path = rel === '' ? root : join(root, rel);
    const st = lstatSync(path);
    const what = st.isSymbolicLink() ? `-> ${readlinkSync(path)}`
      : st.isFile() ? createHash('sha256').update(readFileSync(path)).digest('hex') : '';
    const xattrs = execFileSync('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', path]).toString();
    lines.push(`${rel}|${st.mode}|${st.uid}:${st.gid}|${st.mtimeMs}|${st.nlink}|${st.size}|${what}|${xattrs}`);
    if (st.isDirectory()) for (const child of readdirSync(path).sort()) walk(rel === '' ? child : join(rel, child));
  };
  walk('');
  return lines.join('\n');
}

function passwdState(): string {
  const st = lstatSync('/etc/passwd');
  return `${st.nlink}|${st.mode}|${st.mtimeMs}|${createHash('sha256').update(readFileSync('/etc/passwd')).digest('hex')}`;
}

async function extractIn(s: Scene, entries: TarSpec[], whiteouts: WhiteoutMode, via: Extractor) {
  return extractWith(via, Readable.from([buildTar(entries)]), s.target, whiteouts);
}

/** Runs the archive, expects a refusal naming `entry`, and checks nothing outside the target moved. */
async function assertRefused(
  t: TestContext, entries: (s: Scene) => TarSpec[], entryName: string | ((s: Scene) => string), reason: RegExp,
  whiteouts: WhiteoutMode, via: Extractor,
) {
  const s = scene(t);
  const entry = typeof entryName === 'string' ? entryName : entryName(s);
  const before = snapshot(s.sentinel);
  const passwd = passwdState();
  await assert.rejects(extractIn(s, entries(s), whiteouts, via), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'E_INVALID', err.message);
    assert.ok(err.message.startsWith(`invalid layer archive: entry ${JSON.stringify(entry)}: `), err.message);
    assert.match(err.message, reason);
    return true;
  });
  assert.equal(snapshot(s.sentinel), before, 'sentinel unchanged');
  assert.deepEqual(readdirSync(s.dir).sort(), ['sentinel', 'target'], 'nothing created beside the target');
  assert.equal(passwdState(), passwd, '/etc/passwd unchanged');
}

const pwned = { data: 'pwned\n', mode: 0o777 };

for (const via of EXTRACTORS) for (const mode of ['overlay', 'delete'] as const) {
  test(`[${via}/${mode}] ../ escapes are refused`, async (t) => {
    await assertRefused(t, () => [{ name: '../sentinel/pwned', ...pwned }], '../sentinel/pwned', /path escapes the layer/, mode, via);
    await assertRefused(t, () => [{ name: 'a/../../sentinel/secret', ...pwned }], 'a/../../sentinel/secret', /path escapes the layer/, mode, via);
    await assertRefused(t, () => [{ name: '..', type: 'dir', mode: 0o777 }], '..', /path escapes the layer/, mode, via);
  });

  test(`[${via}/${mode}] an absolute path is inside the layer, and a .. that climbs out of it is refused`, async (t) => {
    await assertRefused(t, () => [{ name: '/../sentinel/secret', ...pwned }], '/../sentinel/secret', /path escapes the layer/, mode, via);
    const climb = (s: Scene) => `/../../../../../../..${s.sentinel}/pwned`;
    await assertRefused(t, (s) => [{ name: climb(s), ...pwned }], climb, /path escapes the layer/, mode, via);
    const s = scene(t);
    await extractIn(s, [{ name: '/etc/hostname', data: 'inside\n' }], mode, via);
    assert.equal(readFileSync(join(s.target, 'etc/hostname'), 'utf8'), 'inside\n');
  });

  test(`[${via}/${mode}] writing through a symlink is refused`, async (t) => {
    await assertRefused(t, (s) => [
      { name: 'evil', type: 'symlink', linkname: s.sentinel },
      { name: 'evil/pwned', ...pwned },
    ], 'evil/pwned', /parent "evil" is a symlink/, mode, via);
    await assertRefused(t, () => [
      { name: 'up', type: 'symlink', linkname: '..' },
      { name: 'up/sentinel/pwned', ...pwned },
    ], 'up/sentinel/pwned', /parent "up" is a symlink/, mode, via);
    await assertRefused(t, (s) => [
      { name: 'd/', type: 'dir' },
      { name: 'd/rel', type: 'symlink', linkname: '../../sentinel' },
      { name: 'd/rel/sub/', type: 'dir', mode: 0o777 },
    ], 'd/rel/sub/', /parent "d\/rel" is a symlink/, mode, via);
    await assertRefused(t, (s) => [
      { name: 'evil', type: 'symlink', linkname: s.sentinel },
      { name: 'evil/secret', type: 'symlink', linkname: '/etc/passwd' },
    ], 'evil/secret', /is a symlink/, mode, via);
  });

  test(`[${via}/${mode}] hard links to outside the layer are refused`, async (t) => {
    await assertRefused(t, () => [{ name: 'hl', type: 'link', linkname: '/etc/passwd' }], 'hl', /hard link target "\/etc\/passwd" does not exist in the layer/, mode, via);
    await assertRefused(t, () => [{ name: 'hl', type: 'link', linkname: '../sentinel/secret' }], 'hl', /hard link target "..\/sentinel\/secret" escapes the layer/, mode, via);
    await assertRefused(t, (s) => [
      { name: 's', type: 'symlink', linkname: s.sentinel },
      { name: 'hl', type: 'link', linkname: 's/secret' },
    ], 'hl', /hard link target parent "s" is a symlink/, mode, via);
    await assertRefused(t, () => [{ name: 'd/', type: 'dir' }, { name: 'hl', type: 'link', linkname: 'd' }], 'hl', /hard link target "d" is a directory/, mode, via);
  });

  test(`[${via}/${mode}] whiteout names that would escape are refused`, async (t) => {
    await assertRefused(t, () => [{ name: '.wh...' }], '.wh...', /invalid whiteout name/, mode, via);
    await assertRefused(t, () => [{ name: '.wh.' }], '.wh.', /invalid whiteout name/, mode, via);
    await assertRefused(t, () => [{ name: '.wh.../..' }], '.wh.../..', /whiteout name ".wh..." used as a directory/, mode, via);
    await assertRefused(t, () => [{ name: 'dir/.wh.../x' }], 'dir/.wh.../x', /used as a directory/, mode, via);
    await assertRefused(t, (s) => [
      { name: 'link', type: 'symlink', linkname: s.sentinel },
      { name: 'link/.wh.secret' },
    ], 'link/.wh.secret', /"link" is a symlink/, mode, via);
    await assertRefused(t, (s) => [
      { name: 'link', type: 'symlink', linkname: s.sentinel },
      { name: 'link/.wh..wh..opq' },
    ], 'link/.wh..wh..opq', /"link" is a symlink/, mode, via);
  });

  test(`[${via}/${mode}] PAX and GNU long names that escape are refused`, async (t) => {
    await assertRefused(t, () => [{ name: 'innocent', ...pwned, pax: { path: '../sentinel/pwned' } }], '../sentinel/pwned', /path escapes the layer/, mode, via);
    await assertRefused(t, () => [{ name: 'innocent', type: 'link', linkname: 'x', pax: { linkpath: '../../sentinel/secret' } }], 'innocent', /escapes the layer/, mode, via);
    await assertRefused(t, () => [{ name: 'innocent', ...pwned, pax: { path: 'a\0/../../sentinel/pwned' } }], 'a\0/../../sentinel/pwned', /NUL byte/, mode, via);
    const long = `${'../'.repeat(40)}sentinel/pwned`;
    await assertRefused(t, () => [{ name: long, ...pwned }], long, /path escapes the layer/, mode, via);
  });

  test(`[${via}/${mode}] a symlink replaced by a directory or file, and later symlinks over deferred work, change nothing outside`, async (t) => {
    const s = scene(t);
    const before = snapshot(s.sentinel);
    await extractIn(s, [
      // CVE-2021-32760: chmod through a symlink.
      { name: 'p', type: 'symlink', linkname: join(s.sentinel, 'secret') },
      { name: 'p/', type: 'dir', mode: 0o777, uid: 1234 },
      { name: 'q', type: 'symlink', linkname: join(s.sentinel, 'secret') },
      { name: 'q', ...pwned },
      // Directory times and xattrs are applied at the end: not through a symlink that replaced the folder.
      { name: 'd/', type: 'dir', mtime: 1 },
      { name: 'd/sub/', type: 'dir', mtime: 1 },
      { name: 'd/secret', data: 'mine', pax: { 'SCHILY.xattr.trusted.evil': 'yes' } },
      { name: 'd', type: 'symlink', linkname: s.sentinel },
      // xattrs on a symlink stay on the symlink.
      { name: 'sx', type: 'symlink', linkname: join(s.sentinel, 'secret'), pax: { 'SCHILY.xattr.trusted.evil': 'yes' } },
      { name: 'sx2', type: 'symlink', linkname: join(s.sentinel, 'secret'), pax: { 'SCHILY.xattr.user.evil': 'yes' } },
      // Hard links to symlinks are links to the symlink, never to what it points at.
      { name: 'hl', type: 'link', linkname: 'sx', mode: 0o777 },
      { name: 'dev', type: 'symlink', linkname: join(s.sentinel, 'secret') },
      { name: 'dev', type: 'char', devmajor: 1, devminor: 3 },
    ], mode, via);
    assert.equal(snapshot(s.sentinel), before);
    assert.deepEqual(readdirSync(s.dir).sort(), ['sentinel', 'target']);
    assert.ok(lstatSync(join(s.target, 'p')).isDirectory());
    assert.equal(readFileSync(join(s.target, 'q'), 'utf8'), 'pwned\n');
    assert.ok(lstatSync(join(s.target, 'd')).isSymbolicLink());
    assert.equal(lstatSync(join(s.target, 'hl')).ino, lstatSync(join(s.target, 'sx')).ino);
    assert.ok(lstatSync(join(s.target, 'dev')).isCharacterDevice());
  });
}

for (const via of EXTRACTORS) {
  test(`[${via}/delete] a whiteout of a symlink removes the symlink, never what it points at`, async (t) => {
    const s = scene(t);
    const before = snapshot(s.sentinel);
    symlinkSync(s.sentinel, join(s.target, 'lower-link'));
    await extractIn(s, [{ name: '.wh.lower-link' }, { name: 'x', type: 'symlink', linkname: s.sentinel }, { name: '.wh.x' }], 'delete', via);
    assert.equal(snapshot(s.sentinel), before);
    assert.deepEqual(readdirSync(s.target), []);
  });

  test(`[${via}/delete] a symlink from the parent layer is not written through either`, async (t) => {
    await assertRefused(t, (s) => {
      symlinkSync(s.sentinel, join(s.target, 'lower-link'));
      return [{ name: 'lower-link/pwned', ...pwned }];
    }, 'lower-link/pwned', /parent "lower-link" is a symlink/, 'delete', via);
    await assertRefused(t, (s) => {
      symlinkSync(s.sentinel, join(s.target, 'lower-link'));
      return [{ name: 'lower-link/.wh..wh..opq' }];
    }, 'lower-link/.wh..wh..opq', /parent "lower-link" is a symlink/, 'delete', via);
  });
}

test('tar-split recording refuses the same escapes', async () => {
  await assert.rejects(recordTarSplit(Readable.from([buildTar([{ name: '../x', data: 'x' }])])), /entry "..\/x": path escapes the layer/);
});
