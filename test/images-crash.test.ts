// Kill -9 of the daemon in the middle of a docker load: after a restart no partial image or
// layer is visible, nothing is left on disk, and the next load succeeds.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { apiRequest, docker, makeTempDir, startDaemon, type RunningDaemon, DOCKER_CONFIG } from './helpers/daemon.js';
import { makeDockerArchive, makeRandomLayer } from './helpers/docker-archive.js';
import { poll } from './helpers/poll.js';

const layerDirs = (dataRoot: string) =>
  readdirSync(dataRoot).filter((d) => ['overlay', 'vfs'].includes(d)).flatMap((driver) => {
    const root = driver === 'vfs' ? join(dataRoot, driver, 'dir') : join(dataRoot, driver);
    return existsSync(root) ? readdirSync(root).filter((n) => /^[a-f0-9]{64}$/.test(n)) : [];
  });

test('kill -9 during docker load leaves no partial image; the next load succeeds', async (t) => {
  const work = makeTempDir('berth-crash-');
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const layers = [0, 1, 2, 3, 4].map((i) => makeRandomLayer(work, `l${i}`, 8, 4 << 20));
  const { path: archive } = makeDockerArchive(work, layers, ['crash/test:1']);
  const d = await startDaemon();
  let again: RunningDaemon | undefined;
  // The restarted daemon shares d's folders: stop it before d's cleanup removes them.
  t.after(async () => {
    await again?.cleanup();
    await d.cleanup();
  });
  const load = spawn('docker', ['-H', `unix://${d.socket}`, 'load', '-i', archive], {
    env: { ...process.env, DOCKER_CONFIG },
    stdio: 'ignore',
  });
  // Wait until a layer is being applied (its driver folder exists), then kill the daemon.
  await poll(() => layerDirs(d.dataRoot).length >= 2, { intervalMs: 10, maxTries: 400 });
  assert.ok(layerDirs(d.dataRoot).length >= 1, 'the load had started applying layers');
  d.proc.kill('SIGKILL');
  await d.exited;
  await new Promise((r) => load.on('close', r));

  again = await startDaemon({ dir: d.dir });
  const images = (await apiRequest(again.socket, 'GET', '/images/json')).json();
  assert.deepEqual(images, [], 'no partial image is listed');
  // Layers committed before the kill may stay (they are whole); the half-applied one is gone.
  const imageRoot = join(again.dataRoot, 'image');
  const committed = readdirSync(imageRoot).flatMap((drv) => {
    const dir = join(imageRoot, drv, 'layerdb', 'sha256');
    return existsSync(dir) ? readdirSync(dir) : [];
  });
  assert.equal(layerDirs(again.dataRoot).length, committed.length, 'no driver layer without its metadata');
  const r = await docker(again.socket, ['load', '-i', archive], { timeoutMs: 120_000 });
  assert.equal(r.stdout.trim(), 'Loaded image: crash/test:1');
  const listed = (await apiRequest(again.socket, 'GET', '/images/json')).json();
  assert.equal(listed.length, 1);
  assert.deepEqual(listed[0].RepoTags, ['crash/test:1']);
  // Exactly the image's five layers are on disk: no orphan left by the interrupted load.
  assert.equal(layerDirs(again.dataRoot).length, 5);
});
