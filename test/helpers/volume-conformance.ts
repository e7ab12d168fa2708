// The volume-driver conformance suite: a driver plugin folder loaded as the daemon loads it, then
// driven through VOLUME_DRIVER_API on a fresh root: create, get, list, reference-counted mount and
// unmount, path, remove. Third-party authors point it at their own folder (plugins/volume/README.md).
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { VOLUME_DRIVER_API, type VolumeDriver, type VolumeDriverRegistration } from '../../plugins/volume/index.js';
import { loadDriverPlugin } from './driver-plugin.js';

export async function loadVolumeDriverPlugin(dir: string): Promise<VolumeDriverRegistration> {
  const { registrations } = await loadDriverPlugin<VolumeDriverRegistration>(dir, {
    pluginKind: 'volume', kind: 'volume', version: VOLUME_DRIVER_API, service: 'volumes', serviceImpl: () => ({}),
  });
  assert.equal(registrations.length, 1, `${dir}: init must register one volume driver`);
  return registrations[0];
}

export function volumeDriverConformance(label: string, dir: string): void {
  const open = async (t: { after: (fn: () => Promise<void>) => void }): Promise<VolumeDriver> => {
    const reg = await loadVolumeDriverPlugin(dir);
    const root = await mkdtemp(join(tmpdir(), `berth-voldrv-${reg.name}-`));
    const driver = await reg.open({ root, log: pino({ level: process.env.BERTH_TEST_LOG ?? 'silent' }) });
    t.after(async () => {
      for (const v of await driver.list().catch(() => [])) {
        for (let i = 0; i < 4; i++) await driver.unmount(v.name, `ref${i}`).catch(() => {});
        await driver.remove(v.name).catch(() => {});
      }
      await driver.cleanup();
      await rm(root, { recursive: true, force: true });
    });
    assert.equal(driver.name, reg.name, 'the driver is named as it registered');
    return driver;
  };

  test(`${label}: create, get, list, remove`, async (t) => {
    const d = await open(t);
    assert.equal(await d.get('vc-a'), null);
    const made = await d.create('vc-a', {});
    assert.equal(made.name, 'vc-a');
    assert.equal((await d.get('vc-a'))?.name, 'vc-a');
    assert.deepEqual((await d.list()).map((v) => v.name), ['vc-a']);
    assert.ok(['local', 'global'].includes((await d.capabilities()).scope));
    await d.remove('vc-a');
    assert.equal(await d.get('vc-a'), null);
    assert.deepEqual(await d.list(), []);
  });

  test(`${label}: mount is counted by reference; the path holds data across mounts`, async (t) => {
    const d = await open(t);
    await d.create('vc-b', {});
    const p1 = await d.mount('vc-b', 'ref0');
    assert.equal(await d.mount('vc-b', 'ref0'), p1, 'the same ref again is the same mount');
    assert.equal(await d.mount('vc-b', 'ref1'), p1);
    await writeFile(join(p1, 'f'), 'data');
    await d.unmount('vc-b', 'ref0');
    assert.deepEqual(await readdir(await d.mount('vc-b', 'ref2')), ['f']);
    await d.unmount('vc-b', 'ref1');
    await d.unmount('vc-b', 'ref2');
    await d.unmount('vc-b', 'ref3');  // never given: forgiven
    assert.deepEqual(await readdir(await d.mount('vc-b', 'ref0')), ['f'], 'data kept after the last unmount');
    await d.unmount('vc-b', 'ref0');
    assert.equal(typeof (await d.path('vc-b')), 'string');
    await d.remove('vc-b');
  });
}
