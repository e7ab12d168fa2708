// The graph-driver conformance suite: registers node:test tests that drive a real driver through
// the whole GraphDriver interface. Built-in drivers run it; point it at your own driver plugin
// with BERTH_GRAPH_DRIVER_DIR (see plugins/graph/README.md).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';


import { unpackLayer } from '../../lib/archive/index.js';
import { GRAPH_DRIVER_API, type Change, type DriverRegistration, type GraphDriver } from '../../plugins/graph/driver.js';
import { loadDriverPlugin } from './driver-plugin.js';

const run = promisify(execFile);

export interface OpenedDriver {
  driver: GraphDriver;
  /** Undoes open(): the driver's cleanup, then any mount and file left under its temp folder. */
  cleanup: () => Promise<void>;
  /** The driver's root, when known: lets the suite measure what the driver stores on disk. */
  root?: string;
}

export interface ConformanceOptions {
  /** The driver stores a parent's files once however many children it has (overlay): checked on disk under root. */
  sharesLayers?: boolean;
  /**
   * Whether the driver claims independentLayers (overlay: true, vfs: false); the suite checks the
   * claim and, for a driver that makes it, that it holds. Unset: neither is checked.
   */
  independentLayers?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Layer tars, built byte by byte (ustar), so the suite depends on nothing but node.

export type TarEntry =
  | { type: 'file'; path: string; body: string | Buffer; mode?: number; mtime?: number }
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'hardlink'; path: string; target: string; mode?: number }; // mode as the target's, as real tars write it

const T0 = 1_700_000_000; // a fixed mtime, so views compare exactly

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function tarHeader(e: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  const name = e.type === 'dir' && !e.path.endsWith('/') ? `${e.path}/` : e.path;
  if (Buffer.byteLength(name) > 100) throw new Error(`test tar: name too long: ${name}`);
  const mode = e.type === 'symlink' ? 0o777 : e.mode ?? (e.type === 'dir' ? 0o755 : 0o644);
  const flag = { file: '0', hardlink: '1', symlink: '2', dir: '5' }[e.type];
  h.write(name, 0);
  h.write(octal(mode, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(e.type === 'file' ? (e.mtime ?? T0) : T0, 12), 136);
  h.write('        ', 148);
  h.write(flag, 156);
  if (e.type === 'symlink' || e.type === 'hardlink') h.write(e.target, 157);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.write('root', 265);
  h.write('root', 297);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

export function buildTar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = e.type === 'file' ? Buffer.from(e.body) : Buffer.alloc(0);
    parts.push(tarHeader(e, body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** The entry names of a tar stream (pax and GNU long names resolved), "./" and "/" stripped. */
export async function tarNames(stream: Readable): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  const tar = Buffer.concat(chunks);
  const names: string[] = [];
  let longName: string | undefined;
  for (let off = 0; off + 512 <= tar.length;) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const field = (start: number, len: number) => h.subarray(start, start + len).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const flag = field(156, 1);
    const body = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (flag === 'x') {
      const path = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'));
      if (path) longName = path[1];
      continue;
    }
    if (flag === 'L') {
      longName = body.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    if (flag === 'g') continue;
    const prefix = field(345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = undefined;
    names.push(name.replace(/^(\.\/|\/)+/, '').replace(/\/$/, ''));
  }
  return names.filter(Boolean);
}

const tarStream = (entries: TarEntry[]) => Readable.from([buildTar(entries)]);

// ---------------------------------------------------------------------------------------------
// Views: what a mounted layer looks like, as comparable text.

/** Every path under root with its type, mode, owner, size, content hash, link target and hard-link group. */
export async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const inodes = new Map<bigint, string>();
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(root, path), { bigint: true });
      let d = `${(st.mode & 0o7777n).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isDirectory()) d = `dir ${d}`;
      else if (st.isSymbolicLink()) d = `symlink ${d} -> ${await readlink(join(root, path))}`;
      else if (st.isFile()) {
        const hash = createHash('sha256').update(await readFile(join(root, path))).digest('hex').slice(0, 16);
        d = `file ${d} ${st.size}b ${hash} mtime ${st.mtimeMs / 1000n}`;
        if (st.nlink > 1n) {
          if (!inodes.has(st.ino)) inodes.set(st.ino, path);
          d += ` linked-to ${inodes.get(st.ino)}`;
        }
      } else d = `special ${d} rdev ${st.rdev}`;
      out[path] = d;
      if (st.isDirectory()) await walk(path);
    }
  };
  await walk('');
  return out;
}

export async function mountPoints(): Promise<Set<string>> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return new Set(text.split('\n').filter(Boolean).map((l) => l.split(' ')[4].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))));
}

/** Unmounts everything under `dir`, deepest first, lazily when busy: the last resort of a cleanup. */
export async function unmountUnder(dir: string): Promise<void> {
  const points = [...(await mountPoints())].filter((p) => p.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length);
  for (const p of points) await run('umount', [p]).catch(() => run('umount', ['-l', p]).catch(() => undefined));
}

const sortChanges = (cs: Change[]) => cs.map((c) => `${c.kind} ${c.path}`).sort();
const exists = (p: string) => lstat(p).then(() => true, () => false);

// ---------------------------------------------------------------------------------------------
// Loading a driver plugin as the daemon would, with a fake context that captures its registration.

export async function loadGraphDriverPlugin(dir: string): Promise<DriverRegistration> {
  const { registrations } = await loadDriverPlugin<DriverRegistration>(dir, {
    pluginKind: 'graphdriver', kind: 'graph', version: GRAPH_DRIVER_API, service: 'graph',
    serviceImpl: (owner) => ({
      registerDriver: (r: DriverRegistration) => owner.register('graph', { ...r, api: r.api ?? '1.0.0' }),
      driver: () => { throw new Error('no driver selected'); },
    }),
  });
  assert.equal(registrations.length, 1, `${dir}: init must register exactly one graph driver`);
  return registrations[0];
}

/** An open() for graphDriverConformance: the plugin's driver on a fresh temp root, probed first. */
export function openPluginDriver(dir: string): () => Promise<OpenedDriver> {
  return async () => {
    const reg = await loadGraphDriverPlugin(dir);
    const tmp = await mkdtemp(join(tmpdir(), `berth-graph-${reg.name}-`));
    const root = join(tmp, reg.name);
    const sweep = async () => {
      await unmountUnder(tmp);
      await rm(tmp, { recursive: true, force: true });
    };
    try {
      const probe = await reg.probe(root);
      assert.ok(probe.ok, `driver ${reg.name}: probe refused ${root}: ${probe.reason}`);
      const driver = await reg.open({ root, options: {}, log: pino({ level: process.env.BERTH_TEST_LOG ?? 'silent' }) });
      assert.equal(driver.name, reg.name, 'the driver is named as it registered');
      return {
        driver,
        root,
        cleanup: async () => {
          try {
            await driver.cleanup();
          } finally {
            await sweep();
          }
        },
      };
    } catch (err) {
      await sweep();
      throw err;
    }
  };
}

// ---------------------------------------------------------------------------------------------
// The layers every test builds on.

const BASE: TarEntry[] = [
  { type: 'dir', path: 'bin' },
  { type: 'file', path: 'bin/tool', body: '#!/bin/sh\necho tool\n', mode: 0o755 },
  { type: 'symlink', path: 'bin/tool-link', target: 'tool' },
  { type: 'hardlink', path: 'bin/tool-hard', target: 'bin/tool', mode: 0o755 },
  { type: 'dir', path: 'data' },
  { type: 'dir', path: 'data/x' },
  { type: 'file', path: 'data/x/y', body: 'yankee\n' },
  { type: 'dir', path: 'data/x/sub', mode: 0o750 },
  { type: 'file', path: 'data/x/sub/z', body: 'zulu\n' },
  { type: 'dir', path: 'etc' },
  { type: 'file', path: 'etc/a', body: 'alpha\n' },
  { type: 'file', path: 'etc/b', body: 'bravo\n', mode: 0o600 },
  { type: 'file', path: 'keep', body: 'keep me\n' },
  { type: 'file', path: 'untouched', body: 'never changed\n' },
];

// On the base: a file whited out, a folder made opaque, a file rewritten, a new tree with links.
const CHILD: TarEntry[] = [
  { type: 'dir', path: 'data' },
  { type: 'dir', path: 'data/x' },
  { type: 'file', path: 'data/x/.wh..wh..opq', body: '' },
  { type: 'file', path: 'data/x/new', body: 'november\n' },
  { type: 'dir', path: 'etc' },
  { type: 'file', path: 'etc/.wh.a', body: '' },
  { type: 'file', path: 'etc/c', body: 'charlie\n' },
  { type: 'file', path: 'keep', body: 'kept, and changed\n', mtime: T0 + 60 },
  { type: 'dir', path: 'newdir' },
  { type: 'file', path: 'newdir/file', body: 'n\n' },
  { type: 'hardlink', path: 'newdir/hard', target: 'newdir/file' },
  { type: 'symlink', path: 'newdir/link', target: '../keep' },
];

const CHILD_CHANGES = [
  'modify /data', 'modify /data/x', 'add /data/x/new', 'delete /data/x/sub', 'delete /data/x/y',
  'modify /etc', 'delete /etc/a', 'add /etc/c', 'modify /keep',
  'add /newdir', 'add /newdir/file', 'add /newdir/hard', 'add /newdir/link',
].sort();
// Bytes of the regular files the child adds or rewrites, its hard link counted once.
const CHILD_SIZE = 'november\n'.length + 'charlie\n'.length + 'kept, and changed\n'.length + 'n\n'.length;

const BASE_SIZE = BASE.reduce((n, e) => n + (e.type === 'file' ? Buffer.byteLength(e.body) : 0), 0);
const BASE_PATHS = ['bin', 'bin/tool', 'bin/tool-link', 'bin/tool-hard', 'data', 'data/x', 'data/x/y', 'data/x/sub', 'data/x/sub/z', 'etc', 'etc/a', 'etc/b', 'keep', 'untouched'];

/** The view of layer id, taken and released around fn. */
async function withView<T>(driver: GraphDriver, id: string, fn: (path: string) => Promise<T>): Promise<T> {
  const path = await driver.get(id);
  try {
    return await fn(path);
  } finally {
    await driver.put(id);
  }
}

async function makeBaseAndChild(driver: GraphDriver): Promise<void> {
  await driver.create('base', null);
  await driver.applyDiff('base', null, Readable.from([gzipSync(buildTar(BASE))]));
  await driver.create('child', 'base');
  await driver.applyDiff('child', 'base', tarStream(CHILD));
}

// ---------------------------------------------------------------------------------------------

export function graphDriverConformance(name: string, open: () => Promise<OpenedDriver>, options: ConformanceOptions = {}): void {
  describe(`graph driver conformance: ${name}`, () => {
    /** Opens a driver for one test, closed (mounts and temp folders gone) when the test ends, even on failure. */
    const setup = async (t: { after: (fn: () => Promise<void>) => void }) => {
      const opened = await open();
      t.after(opened.cleanup);
      return opened;
    };

    test('applyDiff builds layers from tars (gzip too); get shows the merged view; the parent is unchanged', async (t) => {
      const { driver } = await setup(t);
      await driver.create('base', null);
      const size = await driver.applyDiff('base', null, Readable.from([gzipSync(buildTar(BASE))]));
      assert.equal(size, BASE_SIZE, 'applyDiff returns the bytes of file content applied');
      const base = await withView(driver, 'base', snapshot);
      assert.deepEqual(Object.keys(base).sort(), [...BASE_PATHS].sort());
      assert.match(base['bin/tool'], /^file 755 0:0 /);
      assert.match(base['etc/b'], /^file 600 /);
      assert.match(base['data/x/sub'], /^dir 750 /);
      assert.match(base['bin/tool-link'], / -> tool$/);
      assert.match(base['bin/tool-hard'], /linked-to bin\/tool$/, 'hard links within a layer are kept');

      await driver.create('child', 'base');
      await driver.applyDiff('child', 'base', tarStream(CHILD));
      await withView(driver, 'child', async (root) => {
        const view = await snapshot(root);
        assert.ok(!('etc/a' in view), 'a whiteout hides the parent file');
        assert.ok('etc/b' in view && 'etc/c' in view);
        assert.deepEqual(Object.keys(view).filter((p) => p.startsWith('data/x/')), ['data/x/new'], 'an opaque folder hides the parent content');
        assert.equal(await readFile(join(root, 'keep'), 'utf8'), 'kept, and changed\n');
        assert.equal(await readFile(join(root, 'untouched'), 'utf8'), 'never changed\n');
        assert.equal(await readFile(join(root, 'bin/tool-link'), 'utf8'), '#!/bin/sh\necho tool\n');
        assert.match(view['newdir/hard'], /linked-to newdir\/file$/);
        assert.match(view['newdir/link'], / -> \.\.\/keep$/);
        assert.ok(!Object.keys(view).some((p) => p.split('/').pop()!.startsWith('.wh.')), 'no whiteout file is visible');
      });
      assert.deepEqual(await withView(driver, 'base', snapshot), base, 'the parent layer is unchanged');
    });

    test('get and put are reference counted; the last put releases the mount', async (t) => {
      const { driver } = await setup(t);
      await makeBaseAndChild(driver);
      const first = await driver.get('child');
      const second = await driver.get('child');
      assert.equal(second, first, 'two gets give the same path');
      const mounted = (await mountPoints()).has(first);
      await driver.put('child');
      assert.equal(await readFile(join(first, 'etc/c'), 'utf8'), 'charlie\n', 'still readable after one of two puts');
      assert.equal((await mountPoints()).has(first), mounted, 'still mounted after one of two puts');
      await driver.put('child');
      assert.ok(!(await mountPoints()).has(first), 'the last put unmounts');
    });

    test('exists, remove, and refusals: a missing parent, a taken id, an id that is a path', async (t) => {
      const { driver } = await setup(t);
      await driver.create('base', null);
      assert.equal(await driver.exists('base'), true);
      assert.equal(await driver.exists('nothing-here'), false);
      await assert.rejects(driver.create('base', null), 'creating an existing layer is refused');
      await assert.rejects(driver.create('orphan', 'no-such-parent'), 'a missing parent is refused');
      assert.equal(await driver.exists('orphan'), false);
      await assert.rejects(driver.create('../escape', null), 'a layer id is never a path');
      await assert.rejects(driver.get('no-such-layer'));
      await driver.create('gone', 'base');
      await driver.remove('gone');
      assert.equal(await driver.exists('gone'), false);
      await driver.remove('gone'); // removing a missing layer is not an error
      await assert.rejects(driver.get('gone'));
      assert.equal(await driver.exists('base'), true, 'removing a child leaves its parent');
    });

    test('changes lists adds, modifies and deletes against the parent', async (t) => {
      const { driver } = await setup(t);
      await makeBaseAndChild(driver);
      assert.deepEqual(sortChanges(await driver.changes('child', 'base')), CHILD_CHANGES);
      assert.deepEqual(sortChanges(await driver.changes('base', null)), BASE_PATHS.map((p) => `add /${p}`).sort());
    });

    test('diff is a tar of the changes with Docker whiteouts; re-applied on the same parent it gives the same view', async (t) => {
      const { driver } = await setup(t);
      await makeBaseAndChild(driver);
      const names = await tarNames(await driver.diff('child', 'base'));
      assert.ok(names.includes('etc/.wh.a'), `the deleted file is a whiteout (got ${names.join(', ')})`);
      assert.ok(names.includes('data/x/.wh..wh..opq') || (names.includes('data/x/.wh.y') && names.includes('data/x/.wh.sub')),
        `the replaced folder is opaque or whites out each old child (got ${names.join(', ')})`);
      assert.ok(!names.includes('untouched') && !names.includes('bin/tool'), 'unchanged files stay out of the diff');
      for (const n of ['etc/c', 'keep', 'newdir/file', 'newdir/hard', 'newdir/link', 'data/x/new']) assert.ok(names.includes(n), `diff holds ${n}`);

      await driver.create('again', 'base');
      await driver.applyDiff('again', 'base', await driver.diff('child', 'base'));
      assert.deepEqual(await withView(driver, 'again', snapshot), await withView(driver, 'child', snapshot));
      assert.deepEqual(sortChanges(await driver.changes('again', 'base')), CHILD_CHANGES);
    });

    test('diffSize counts the bytes a layer adds', async (t) => {
      const { driver } = await setup(t);
      await makeBaseAndChild(driver);
      assert.equal(await driver.diffSize('child', 'base'), CHILD_SIZE);
    });

    test('a read-write layer records what is written through its mount, and its diff replays it', async (t) => {
      const { driver } = await setup(t);
      await makeBaseAndChild(driver);
      await driver.create('container', 'child', { rw: true });
      await withView(driver, 'container', async (root) => {
        await writeFile(join(root, 'rw-file'), 'written in the container\n');
        await unlink(join(root, 'etc/b'));
        await rm(join(root, 'data'), { recursive: true });
        await mkdir(join(root, 'data'));
        await writeFile(join(root, 'data/fresh'), 'fresh\n');
      });
      assert.deepEqual(sortChanges(await driver.changes('container', 'child')),
        ['add /data/fresh', 'add /rw-file', 'delete /data/x', 'delete /etc/b', 'modify /data', 'modify /etc'].sort());
      assert.equal(await driver.diffSize('container', 'child'), 'written in the container\n'.length + 'fresh\n'.length);
      await driver.create('replay', 'child');
      await driver.applyDiff('replay', 'child', await driver.diff('container', 'child'));
      const replayed = await withView(driver, 'replay', snapshot);
      assert.deepEqual(replayed, await withView(driver, 'container', snapshot));
      assert.ok(!('etc/b' in replayed) && !('data/x' in replayed) && 'data/fresh' in replayed);
      assert.ok('etc/b' in (await withView(driver, 'child', snapshot)), 'the read-only parent is unchanged');
    });

    test('a base layer shared by 10 children: each child sees it and only its own files', async (t) => {
      const { driver, root } = await setup(t);
      const big = randomBytes(1 << 20);
      await driver.create('shared', null);
      await driver.applyDiff('shared', null, tarStream([{ type: 'file', path: 'big', body: big }]));
      for (let i = 0; i < 10; i++) {
        await driver.create(`kid${i}`, 'shared');
        await driver.applyDiff(`kid${i}`, 'shared', tarStream([{ type: 'file', path: `own-${i}`, body: `kid ${i}\n` }]));
      }
      for (let i = 0; i < 10; i++) {
        assert.deepEqual(sortChanges(await driver.changes(`kid${i}`, 'shared')), [`add /own-${i}`]);
        assert.equal(await driver.diffSize(`kid${i}`, 'shared'), `kid ${i}\n`.length);
        assert.deepEqual(Object.keys(await withView(driver, `kid${i}`, snapshot)), ['big', `own-${i}`]);
      }
      if (options.sharesLayers && root) {
        const { stdout } = await run('du', ['-s', '-B1', root]);
        const used = Number(stdout.split('\t')[0]);
        assert.ok(used < 2 * big.length, `the shared layer is stored once: ${used} bytes used under ${root} for a ${big.length}-byte base and 10 small children`);
      }
    });

    if (options.independentLayers !== undefined) {
      test(`independentLayers is ${options.independentLayers ? 'claimed' : 'not claimed'}, as expected of this driver`, async (t) => {
        const { driver } = await setup(t);
        assert.equal(Boolean(driver.independentLayers), options.independentLayers);
      });
    }

    // Only for a driver expected to claim the capability (third parties: set the option).
    if (options.independentLayers) test('independentLayers, when claimed: children created on empty parents and filled top first show the whole chain', async (t) => {
      const { driver } = await setup(t);
      assert.ok(driver.independentLayers, 'the driver claims independentLayers');
      await driver.create('base', null);
      await driver.create('mid', 'base');
      await driver.create('top', 'mid');
      // The top is filled before its parents hold anything, then the two parents at once.
      await driver.applyDiff('top', 'mid', tarStream([{ type: 'file', path: 'top-file', body: 'top\n' }, { type: 'file', path: '.wh.gone', body: '' }]));
      await Promise.all([
        driver.applyDiff('mid', 'base', tarStream([{ type: 'file', path: 'mid-file', body: 'mid\n' }])),
        driver.applyDiff('base', null, tarStream([{ type: 'file', path: 'base-file', body: 'base\n' }, { type: 'file', path: 'gone', body: 'gone\n' }])),
      ]);
      assert.deepEqual(Object.keys(await withView(driver, 'top', snapshot)).sort(), ['base-file', 'mid-file', 'top-file']);
      assert.deepEqual(Object.keys(await withView(driver, 'mid', snapshot)).sort(), ['base-file', 'gone', 'mid-file']);
      assert.deepEqual(sortChanges(await driver.changes('top', 'mid')), ['add /top-file', 'delete /gone']);
      await driver.create('container', 'top', { rw: true });
      await withView(driver, 'container', async (root) => assert.equal(await readFile(join(root, 'mid-file'), 'utf8'), 'mid\n'));
    });

    test('unpackTarget, when offered: the layer store unpacking there (in a worker) builds the same layers as applyDiff', async (t) => {
      const { driver } = await setup(t);
      if (!driver.unpackTarget) {
        // Without it the layer store calls applyDiff, which the other tests cover.
        assert.equal(driver.unpackTarget, undefined);
        return;
      }
      await driver.create('base', null);
      await driver.applyDiff('base', null, Readable.from([gzipSync(buildTar(BASE))]));
      await driver.create('by-apply', 'base');
      await driver.applyDiff('by-apply', 'base', tarStream(CHILD));
      await driver.create('by-target', 'base');
      const target = await driver.unpackTarget('by-target', 'base');
      assert.ok(target.whiteouts === 'overlay' || target.whiteouts === 'delete', `whiteouts: ${target.whiteouts}`);
      const unpacked = await unpackLayer(tarStream(CHILD), target.dir, target.whiteouts, 'conformance');
      assert.equal(unpacked.size, CHILD_SIZE);
      assert.deepEqual(await withView(driver, 'by-target', snapshot), await withView(driver, 'by-apply', snapshot));
      assert.deepEqual(sortChanges(await driver.changes('by-target', 'base')), sortChanges(await driver.changes('by-apply', 'base')));
      await assert.rejects(driver.unpackTarget('no-such-layer', null), { code: 'E_NOT_FOUND' });
    });

    test('applyDiff writes nothing outside the layer, whatever the archive says', async (t) => {
      const { driver } = await setup(t);
      const canary = await mkdtemp(join(tmpdir(), 'berth-graph-canary-'));
      t.after(() => rm(canary, { recursive: true, force: true }));
      await driver.create('evil', null);
      await writeFile(join(canary, 'secret'), 'host file\n');
      const marker = `escaped-${randomBytes(4).toString('hex')}`;
      const tar = tarStream([
        { type: 'symlink', path: 'out', target: canary },
        { type: 'file', path: `out/${marker}`, body: 'pwned\n' },
        { type: 'file', path: `../${marker}`, body: 'pwned\n' },
        { type: 'hardlink', path: 'stolen', target: `${'../'.repeat(32)}${canary.slice(1)}/secret` },
      ]);
      await driver.applyDiff('evil', null, tar).catch(() => undefined); // refusing is fine; escaping is not
      assert.deepEqual((await readdir(canary)).sort(), ['secret'], 'nothing written through a symlink');
      const secret = await lstat(join(canary, 'secret'));
      assert.equal(secret.nlink, 1, 'no hard link made to a file outside the layer');
      await withView(driver, 'evil', async (view) => {
        assert.equal(await exists(join(view, '..', marker)), false, 'nothing written above the layer');
      });
    });

    test('status gives key/value pairs for docker info', async (t) => {
      const { driver } = await setup(t);
      const status = await driver.status();
      assert.ok(Array.isArray(status));
      for (const pair of status) {
        assert.equal(pair.length, 2);
        assert.ok(typeof pair[0] === 'string' && typeof pair[1] === 'string', `status pairs are strings: ${JSON.stringify(pair)}`);
      }
    });

    test('cleanup unmounts everything the driver mounted', async (t) => {
      const { driver } = await setup(t);
      await makeBaseAndChild(driver);
      await driver.create('container', 'child', { rw: true });
      const paths = [await driver.get('child'), await driver.get('container'), await driver.get('container'), await driver.get('base')];
      await driver.cleanup();
      const points = await mountPoints();
      for (const p of paths) assert.ok(!points.has(p), `${p} is still mounted after cleanup`);
    });
  });
}
