// Debian's docker-compose (1.29, through docker-py) with volumes: a project with a named volume and
// an anonymous one; data written survives down + up; a recreate keeps the anonymous volume
// (compose reads Mounts[].Name); down -v removes both. No network: the service runs with
// network_mode none, so the test touches no bridge.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { docker, makeTempDir, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { compose as runCompose } from './helpers/compose.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';

let d: RunningDaemon;
let work: string;

const COMPOSE = `version: "2.4"
services:
  app:
    image: busybox
    command: sleep 600
    stop_grace_period: 1s
    network_mode: none
    volumes:
      - data:/data
      - /scratch
volumes:
  data: {}
`;

const compose = (args: string[]) => runCompose('bvol', work, d.socket, args);

before(async () => {
  assert.equal(spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status, 0, 'docker-compose is not installed (bin/setup installs it)');
  work = makeTempDir('berth-volcmp-');
  writeFileSync(join(work, 'docker-compose.yml'), COMPOSE);
  d = await startDaemon();
  await importBusybox(d.socket, join(work, 'img'));
});

after(async () => {
  if (d) {
    await removeAllContainers(d.socket);
    await d.cleanup();
  }
  rmSync(work, { recursive: true, force: true });
});

const sh = async (cmd: string) => (await docker(d.socket, ['exec', 'bvol_app_1', 'sh', '-c', cmd])).stdout.trim();
const anonOf = async () => {
  const mounts = JSON.parse((await docker(d.socket, ['inspect', '--format', '{{json .Mounts}}', 'bvol_app_1'])).stdout) as { Name: string; Destination: string }[];
  return mounts.find((m) => m.Destination === '/scratch')!.Name;
};

test('docker-compose: a named volume keeps data across down and up; recreate keeps the anonymous volume; down -v removes them', async () => {
  let r = await compose(['up', '-d']);
  assert.equal(r.code, 0, r.out);
  await sh('echo kept > /data/f; echo scratch > /scratch/g');
  const anon = await anonOf();
  r = await compose(['up', '-d', '--force-recreate']);
  assert.equal(r.code, 0, r.out);
  assert.equal(await anonOf(), anon, 'compose recreate reuses the anonymous volume');
  assert.equal(await sh('cat /scratch/g'), 'scratch');
  r = await compose(['down']);
  assert.equal(r.code, 0, r.out);
  assert.equal((await docker(d.socket, ['volume', 'inspect', '--format', '{{.Name}}', 'bvol_data'])).stdout.trim(), 'bvol_data');
  r = await compose(['up', '-d']);
  assert.equal(r.code, 0, r.out);
  assert.equal(await sh('cat /data/f'), 'kept');
  r = await compose(['down', '-v']);
  assert.equal(r.code, 0, r.out);
  const left = (await docker(d.socket, ['volume', 'ls', '-q'])).stdout.trim().split('\n').filter(Boolean);
  // The anonymous volume of the first run was left by the plain `down` (as dockerd leaves it); the
  // second run's went with down -v.
  assert.deepEqual(left, [anon], 'down -v removes the named volume and the anonymous one of its containers');
  assert.deepEqual((await docker(d.socket, ['ps', '-aq'])).stdout.trim(), '');
});
