// LayerStore.registerChain on the real drivers: overlay fills a chain's layers concurrently
// (independentLayers), vfs one after another; either way layers are committed bottom up, a bad
// layer leaves no driver layer behind, and a layer registered meanwhile by someone else is reused.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { pluginFs } from '../core/plugins/tools.js';
import { chainIds } from '../lib/digest.js';
import { LayerStore, type ChainItem } from '../plugins/image-store/layer-store.js';
import { buildTar, openPluginDriver, type OpenedDriver } from './helpers/graph-conformance.js';

const DIST = fileURLToPath(new URL('..', import.meta.url));
const quiet = pino({ level: 'silent' });

/** Three layers, each adding one file. */
const TARS = ['bottom', 'middle', 'top'].map((n) => buildTar([{ type: 'file', path: `${n}-file`, body: `${n}\n` }]));
const DIFF_IDS = TARS.map((t) => `sha256:${createHash('sha256').update(t).digest('hex')}`);
const CHAIN = chainIds(DIFF_IDS);

/** A tar that arrives only when let through: lets a test order what the store sees. */
function gated(tar: Buffer): { stream: Readable; open: () => void } {
  const stream = new PassThrough();
  return { stream, open: () => stream.end(tar) };
}

for (const name of ['overlay', 'vfs']) {
  describe(`layer store chains on ${name}`, () => {
    const setup = async (t: { after: (fn: () => Promise<void>) => void }) => {
      const opened: OpenedDriver = await openPluginDriver(join(DIST, 'plugins', `graph-${name}`))();
      t.after(opened.cleanup);
      const meta = await mkdtemp(join(tmpdir(), 'berth-layerdb-'));
      t.after(() => rm(meta, { recursive: true, force: true }));
      const store = new LayerStore(opened.driver, meta, quiet, pluginFs);
      await store.load();
      const driverLayers = async () => (await readdir(name === 'vfs' ? join(opened.root!, 'dir') : opened.root!)).filter((n) => n !== 'l').sort();
      return { store, driver: opened.driver, driverLayers, meta };
    };
    const topView = async (store: LayerStore, driver: OpenedDriver['driver'], chainId: string) => {
      const cacheId = store.get(chainId)!.cacheId;
      const root = await driver.get(cacheId);
      try {
        return (await readdir(root)).sort();
      } finally {
        await driver.put(cacheId);
      }
    };

    test('layers arriving top first are committed bottom up, each on its parent', async (t) => {
      const { store, driver, driverLayers } = await setup(t);
      const gates = TARS.map(gated);
      const order: string[] = [];
      const items: ChainItem[] = gates.map((g, i) => ({ diffId: DIFF_IDS[i], tar: () => g.stream, onRegistered: (l) => order.push(l.chainId) }));
      const registering = store.registerChain(null, items);
      for (const g of [...gates].reverse()) g.open();
      const layers = await registering;
      assert.deepEqual(layers.map((l) => l.chainId), CHAIN);
      assert.deepEqual(order, CHAIN, 'committed bottom up');
      assert.deepEqual(layers.map((l) => l.parent), [null, CHAIN[0], CHAIN[1]]);
      assert.deepEqual(await topView(store, driver, CHAIN[2]), ['bottom-file', 'middle-file', 'top-file']);
      assert.deepEqual(await driverLayers(), layers.map((l) => l.cacheId).sort());
    });

    test('a middle layer whose content does not match its diffID: no uncommitted driver layer stays', async (t) => {
      const { store, driverLayers } = await setup(t);
      const items: ChainItem[] = TARS.map((tar, i) => ({
        diffId: DIFF_IDS[i],
        tar: () => Readable.from([i === 1 ? buildTar([{ type: 'file', path: 'other', body: 'other\n' }]) : tar]),
        explain: (err) => new Error(`layer ${i}: ${(err as Error).message}`),
      }));
      await assert.rejects(store.registerChain(null, items), /^Error: layer 1: layer content does not match its digest: expected sha256:/);
      // The bottom layer may have been committed (the caller releases it, as after register); nothing else is kept.
      assert.ok(store.all().every((l) => l.chainId === CHAIN[0]));
      assert.deepEqual(await driverLayers(), store.all().map((l) => l.cacheId));
    });

    test('a bottom layer registered meanwhile by someone else is reused, and the rest is built on it', async (t) => {
      const { store, driver, driverLayers, meta } = await setup(t);
      const bottom = gated(TARS[0]);
      const items: ChainItem[] = TARS.map((tar, i) => ({ diffId: DIFF_IDS[i], tar: () => (i === 0 ? bottom.stream : Readable.from([tar])) }));
      const registering = store.registerChain(null, items);
      const theirs = await store.register(Readable.from([TARS[0]]), null, DIFF_IDS[0]);
      bottom.open();
      const layers = await registering;
      assert.equal(layers[0].cacheId, theirs.cacheId, 'the layer committed first is the one kept');
      assert.deepEqual(layers.map((l) => l.chainId), CHAIN);
      assert.deepEqual(await topView(store, driver, CHAIN[2]), ['bottom-file', 'middle-file', 'top-file']);
      assert.deepEqual(await driverLayers(), layers.map((l) => l.cacheId).sort(), 'the copies made before the race was seen are gone');
      assert.deepEqual(await readdir(join(meta, 'tmp')), [], 'no filling marker left');
    });
  });
}
