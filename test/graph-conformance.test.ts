// The graph-driver conformance suite on the built-in drivers (overlay, vfs) and, when
// BERTH_GRAPH_DRIVER_DIR names a driver plugin folder, on that third-party driver; then what
// only the built-ins promise: registration and probes, overlay's layout, depth limit and crash recovery.
import assert from 'node:assert/strict';
import { lstat, mkdtemp, readFile, readlink, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { validate } from '../core/schema.js';
import type { DriverRegistration, GraphDriver } from '../plugins/graph/driver.js';
import {
  buildTar, graphDriverConformance, loadGraphDriverPlugin, mountPoints, openPluginDriver, unmountUnder, type TarEntry,
} from './helpers/graph-conformance.js';

const DIST = fileURLToPath(new URL('..', import.meta.url));
const OVERLAY = join(DIST, 'plugins/graph-overlay');
const VFS = join(DIST, 'plugins/graph-vfs');

graphDriverConformance('overlay', openPluginDriver(OVERLAY), { sharesLayers: true, independentLayers: true });
graphDriverConformance('vfs', openPluginDriver(VFS), { independentLayers: false });

// The built-ins above are loaded from their plugin folders exactly as a third party's would be;
// BERTH_GRAPH_DRIVER_DIR adds a run on the author's own driver folder.
const thirdParty = process.env.BERTH_GRAPH_DRIVER_DIR;
if (thirdParty) graphDriverConformance(`third-party plugin in ${thirdParty}`, openPluginDriver(thirdParty));

// ---------------------------------------------------------------------------------------------

const quiet = pino({ level: 'silent' });
const tar = (entries: TarEntry[]) => Readable.from([buildTar(entries)]);

/** The overlay driver on a fresh root, with everything under it unmounted and removed when the test ends. */
async function overlayOn(t: { after: (fn: () => Promise<void>) => void }): Promise<{ reg: DriverRegistration; root: string; open: () => Promise<GraphDriver> }> {
  const reg = await loadGraphDriverPlugin(OVERLAY);
  const tmp = await mkdtemp(join(tmpdir(), 'berth-overlay-'));
  const root = join(tmp, 'overlay');
  const drivers: GraphDriver[] = [];
  t.after(async () => {
    for (const d of drivers) await d.cleanup().catch(() => undefined);
    await unmountUnder(tmp);
    await rm(tmp, { recursive: true, force: true });
  });
  return {
    reg,
    root,
    open: async () => {
      const d = await reg.open({ root, options: {}, log: quiet });
      drivers.push(d);
      return d;
    },
  };
}

test('registration: overlay is preferred where it works, vfs is the fallback; unknown storage options are refused by name', async () => {
  const overlay = await loadGraphDriverPlugin(OVERLAY);
  const vfs = await loadGraphDriverPlugin(VFS);
  assert.equal(overlay.name, 'overlay');
  assert.equal(vfs.name, 'vfs');
  assert.ok(overlay.priority < vfs.priority);
  for (const reg of [overlay, vfs]) {
    assert.deepEqual(validate(reg.optionsSchema!, {}, 'storage-opt'), []);
    assert.deepEqual(validate(reg.optionsSchema!, { 'overlay2.size': '10G' }, 'storage-opt'), ['storage-opt.overlay2.size: unknown key']);
  }
  const tmp = await mkdtemp(join(tmpdir(), 'berth-probe-'));
  try {
    const probe = await overlay.probe(join(tmp, 'overlay'));
    assert.equal(probe.ok, true, probe.reason);
    assert.match(probe.reason, /^overlay mount works on \S+/);
    assert.deepEqual(await readdir(join(tmp, 'overlay')), [], 'the probe leaves nothing behind');
    assert.equal((await vfs.probe(join(tmp, 'vfs'))).ok, true);
    await writeFile(join(tmp, 'a-file'), '');
    const refused = await overlay.probe(join(tmp, 'a-file', 'overlay'));
    assert.equal(refused.ok, false);
    assert.match(refused.reason, /^cannot create .*a-file\/overlay: ENOTDIR/);
  } finally {
    await unmountUnder(tmp);
    await rm(tmp, { recursive: true, force: true });
  }
});

test('overlay: dockerd overlay2 layout, short links, lower chain; children store only their own files', async (t) => {
  const { root, open } = await overlayOn(t);
  const driver = await open();
  await driver.create('base', null);
  await driver.applyDiff('base', null, tar([{ type: 'file', path: 'base-file', body: 'base\n' }]));
  await driver.create('mid', 'base');
  await driver.applyDiff('mid', 'base', tar([{ type: 'file', path: 'mid-file', body: 'mid\n' }]));
  await driver.create('top', 'mid', { rw: true });
  const short = async (id: string) => (await readFile(join(root, id, 'link'), 'utf8')).trim();
  for (const id of ['base', 'mid', 'top']) {
    assert.match(await short(id), /^[A-Z2-7]{26}$/);
    assert.equal(await readlink(join(root, 'l', await short(id))), `../${id}/diff`);
  }
  assert.equal(await readFile(join(root, 'mid', 'lower'), 'utf8'), `l/${await short('base')}`);
  assert.equal(await readFile(join(root, 'top', 'lower'), 'utf8'), `l/${await short('mid')}:l/${await short('base')}`);
  assert.deepEqual(await readdir(join(root, 'mid', 'diff')), ['mid-file']);
  assert.ok((await lstat(join(root, 'top', 'work'))).isDirectory(), 'a read-write layer has a work dir');
  assert.ok(!(await lstat(join(root, 'mid', 'work')).then(() => true, () => false)), 'a read-only layer has none');

  assert.equal(await driver.get('base'), join(root, 'base', 'diff'), 'a base layer is its diff dir, no mount');
  assert.equal(await driver.get('top'), join(root, 'top', 'merged'));
  assert.ok((await mountPoints()).has(join(root, 'top', 'merged')));
  await assert.rejects(driver.remove('top'), /layer top is in use/);
  await driver.put('top');
  await driver.put('base');
  await driver.remove('top');
  assert.equal((await readdir(join(root, 'l'))).length, 2, 'removing a layer removes its short link');
  assert.deepEqual(await driver.status(), [
    ['Backing Filesystem', (await driver.status())[0][1]],
    ['Supports d_type', 'true'],
    ['Native Overlay Diff', 'true'],
    ['userxattr', 'false'],
  ]);
});

test('overlay: 128 parents mount (short links keep the options under a page); a 129th is refused', async (t) => {
  const { open } = await overlayOn(t);
  const driver = await open();
  await driver.create('layer0', null);
  await driver.applyDiff('layer0', null, tar([{ type: 'file', path: 'bottom', body: 'bottom\n' }]));
  for (let i = 1; i <= 128; i++) await driver.create(`layer${i}`, `layer${i - 1}`);
  await driver.applyDiff('layer128', 'layer127', tar([{ type: 'file', path: 'top', body: 'top\n' }]));
  await assert.rejects(driver.create('layer129', 'layer128'), /graphdriver\.overlay: layer layer129: max depth exceeded: .*129 lower layers \(the limit is 128\)/);
  assert.equal(await driver.exists('layer129'), false);
  const view = await driver.get('layer128');
  try {
    assert.deepEqual((await readdir(view)).sort(), ['bottom', 'top']);
  } finally {
    await driver.put('layer128');
  }
});

test('overlay: open() unmounts what a crashed run left mounted', async (t) => {
  const { root, open } = await overlayOn(t);
  const crashed = await open();
  await crashed.create('base', null);
  await crashed.create('rw', 'base', { rw: true });
  const merged = await crashed.get('rw');
  assert.ok((await mountPoints()).has(merged));
  // The daemon died without cleanup(); the next one opens the same root.
  const next = await open();
  assert.ok(!(await mountPoints()).has(merged), 'the leftover mount is gone');
  assert.equal(await next.get('rw'), join(root, 'rw', 'merged'));
  await next.put('rw');
});
