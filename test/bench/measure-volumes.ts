// Volumes: `docker run --rm -v NAME:/data busybox true` with the real CLI (a named volume that
// exists), and the copy-up of an image folder of 2,000 files (about 50 MB) into a new volume, timed
// as the container create that does it (POST /containers/create with a new volume over the folder).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, type Benchmark } from './benchmark.js';
import { busyboxTar, IMAGE, RUN_ARGS, withBusybox } from './busybox-daemon.js';
import { COUNTS } from './counts.js';
import { scratchDir } from './daemons.js';
import { dockerOk } from './docker-cli.js';
import { apiCall } from './unix-http.js';

export const COPY_UP_FILES = 2000;
const FILE_BYTES = 25 * 1024;
const COPY_UP_ROUNDS = 3;
const BIG_IMAGE = 'copyup:latest';

let bigTar: string | undefined;
/** busybox plus /big with 2,000 files of 25 KiB (50 MB), made once per bench run. */
function copyUpTar(): string {
  if (bigTar) return bigTar;
  const dir = scratchDir('copyup');
  const root = join(dir, 'rootfs');
  mkdirSync(root);
  execFileSync('tar', ['-C', root, '-xf', busyboxTar().path]);
  for (let i = 0; i < COPY_UP_FILES / 100; i++) {
    const sub = join(root, 'big', `d${i}`);
    mkdirSync(sub, { recursive: true });
    for (let j = 0; j < 100; j++) writeFileSync(join(sub, `f${j}`), Buffer.alloc(FILE_BYTES, (i * 100 + j) % 251));
  }
  bigTar = join(dir, 'copyup.tar');
  execFileSync('tar', ['--numeric-owner', '-C', root, '-cf', bigTar, '.']);
  return bigTar;
}

export const volumes: Benchmark = {
  name: 'volumes',
  metrics: ['runVolumeMs', 'copyUpMs'],
  run: (spec) => withBusybox(spec, async (d) => {
    await dockerOk(d, ['volume', 'create', 'benchvol']);
    const RUN = ['run', '--rm', ...RUN_ARGS, '-v', 'benchvol:/data', IMAGE, 'true'];
    for (let i = 0; i < COUNTS.warmups; i++) await dockerOk(d, RUN);
    const times: number[] = [];
    for (let i = 0; i < COUNTS.runs; i++) times.push((await dockerOk(d, RUN)).ms);

    await dockerOk(d, ['import', '-c', 'CMD ["sh"]', copyUpTar(), BIG_IMAGE], 300_000);
    const copies: number[] = [];
    for (let i = 0; i < COPY_UP_ROUNDS; i++) {
      const name = `copyup${i}`;
      const t0 = performance.now();
      const r = await apiCall(d.socket, 'POST', '/containers/create', { Image: BIG_IMAGE, Cmd: ['true'], HostConfig: { NetworkMode: 'none', Binds: [`${name}:/big`] } }, 120_000);
      copies.push(performance.now() - t0);
      if (r.status !== 201) throw new Error(`create with copy-up: HTTP ${r.status}: ${r.body.slice(0, 300)}`);
      const mountpoint = (JSON.parse((await apiCall(d.socket, 'GET', `/volumes/${name}`)).body) as { Mountpoint: string }).Mountpoint;
      // dockerd's volumes live in its private mount namespace's view of the same folder: readable here.
      const copied = readdirSync(mountpoint).length;
      if (copied !== COPY_UP_FILES / 100) throw new Error(`copy-up: ${copied} folders in the new volume, expected ${COPY_UP_FILES / 100}`);
      await apiCall(d.socket, 'DELETE', `/containers/${(JSON.parse(r.body) as { Id: string }).Id}?v=1`);
      await apiCall(d.socket, 'DELETE', `/volumes/${name}`);
    }
    return { runVolumeMs: median(times), copyUpMs: median(copies) };
  }),
};
