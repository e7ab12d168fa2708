// docker pull throughput: a ~100 MB five-layer image from a local registry (bench-registry.ts),
// POST /images/create on a fresh daemon (fresh data root) per run, so no layer is there yet.
// Throughput counts the compressed layer blob bytes downloaded (random data: about the same as
// uncompressed). Alongside each pull runs the floor: the same layer blobs fetched by curl, three at
// once like the daemons' default max-concurrent-downloads, each piped into `tar -xz` onto a tmpfs
// (so it measures download, decompression and unpacking, not the disk), no digest check.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, PartialFailure, type Benchmark } from './benchmark.js';
import { benchImage, stopBenchRegistry, type BenchImage } from './bench-registry.js';
import { pool, timed } from './busybox-daemon.js';
import { COUNTS } from './counts.js';
import { berthd, dockerd, registerUndo, scratchDir, withDaemon, type Daemon } from './daemons.js';
import { apiCall } from './unix-http.js';

const CONCURRENCY = 3;
const PULL_IDLE_MS = 120_000;

/** Pulls the image; resolves with the seconds the daemon took to answer POST /images/create in full. */
async function pullImage(d: Daemon, img: BenchImage): Promise<number> {
  // /_ping may answer before the daemon restored its state (Berth does): the pull is timed from
  // when the image routes answer, so it does not include the daemon's start.
  const ready = await apiCall(d.socket, 'GET', '/images/json');
  if (ready.status !== 200) throw new Error(`GET /images/json before the pull: HTTP ${ready.status}: ${ready.body.slice(0, 300)}`);
  const path = `/images/create?fromImage=${encodeURIComponent(img.repository)}&tag=${img.tag}`;
  const t0 = performance.now();
  const r = await apiCall(d.socket, 'POST', path, undefined, PULL_IDLE_MS);
  const seconds = (performance.now() - t0) / 1000;
  const problem = r.status !== 200
    ? `HTTP ${r.status}: ${r.body.slice(0, 500)}`
    : r.body.split('\n').find((l) => /"error(Detail)?"\s*:/.test(l))
      ?? (r.body.includes('Status: Downloaded newer image') ? undefined : `no "Downloaded newer image" status: ${r.body.slice(-500)}`);
  if (problem) throw new Error(`POST ${path}: ${problem}\n${d.logs().slice(-4000)}`);
  const inspect = await apiCall(d.socket, 'GET', `/images/${img.repository}:${img.tag}/json`);
  if (inspect.status !== 200) throw new Error(`after the pull, GET /images/${img.repository}:${img.tag}/json: HTTP ${inspect.status}: ${inspect.body.slice(0, 300)}`);
  return seconds;
}

/** A tmpfs in a scratch folder for the floor's extraction; release() kills its pipelines and unmounts it. */
class FloorTmpfs {
  readonly dir = join(scratchDir('pull-floor'), 'tmpfs');
  private pipelines = new Set<number>();
  readonly release: () => void;

  constructor() {
    mkdirSync(this.dir);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=512m,mode=0700', 'berth-bench-pull', this.dir], { encoding: 'utf8' });
    if (m.status !== 0) throw new Error(`mount tmpfs on ${this.dir}: ${m.error?.message ?? m.stderr.trim()}`);
    this.release = registerUndo(() => {
      for (const pgid of this.pipelines) {
        try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ }
      }
      if (spawnSync('umount', [this.dir], { stdio: 'ignore' }).status !== 0) spawnSync('umount', ['-l', this.dir], { stdio: 'ignore' });
    });
  }

  /** `curl URL | tar -xz -C into` in its own process group, so an interrupted run can kill all of it. */
  private fetch(url: string, into: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const p = spawn('bash', ['-o', 'pipefail', '-c', 'curl -sfS --max-time 300 "$1" | tar -xzf - -C "$2"', 'floor', url, into], {
        detached: true, stdio: ['ignore', 'ignore', 'pipe'],
      });
      if (p.pid) this.pipelines.add(p.pid);
      let stderr = '';
      p.stderr!.on('data', (b: Buffer) => (stderr += b));
      p.on('error', (err) => { if (p.pid) this.pipelines.delete(p.pid); reject(err); });
      p.on('close', (code) => {
        if (p.pid) this.pipelines.delete(p.pid);
        if (code === 0) resolve();
        else reject(new Error(`floor: curl ${url} | tar -xz: exit ${code}: ${stderr.trim()}`));
      });
    });
  }

  /** Seconds to fetch and unpack every layer (each into its own folder: they do not overlap), then empties the tmpfs. */
  async run(img: BenchImage): Promise<number> {
    const into = join(this.dir, 'run');
    const dirs = img.layerUrls.map((_, i) => join(into, `layer${i}`));
    for (const d of dirs) mkdirSync(d, { recursive: true });
    try {
      const ms = await timed(() => pool(img.layerUrls.length, CONCURRENCY, (i) => this.fetch(img.layerUrls[i], dirs[i])));
      return ms / 1000;
    } finally {
      rmSync(into, { recursive: true, force: true });
    }
  }
}

export const pull: Benchmark = {
  name: 'pull',
  metrics: ['pullMBps', 'pullFloorMBps', 'pullOverFloor'],
  only: [berthd.name, dockerd.name],
  async run(spec) {
    // The registry serves both daemons, then stops with the last of them.
    const last = dockerd.available() ? dockerd.name : berthd.name;
    try {
      const img = await benchImage();
      const mb = img.layerBytes / 1e6;
      let floor: FloorTmpfs | undefined;
      let floorError: string | undefined;
      try {
        floor = new FloorTmpfs();
      } catch (err) {
        floorError = (err as Error).message;
      }
      const pulls: number[] = [];
      const floors: number[] = [];
      try {
        // Floor and daemon take turns, so both see the same machine conditions.
        for (let i = 0; i < COUNTS.pullRuns; i++) {
          if (floor && !floorError) floors.push(await floor.run(img).catch((err: Error) => { floorError = err.message; return NaN; }));
          pulls.push(await withDaemon(spec, (d) => pullImage(d, img)));
        }
      } finally {
        floor?.release();
      }
      const figures = { pullMBps: mb / median(pulls) };
      if (floorError) throw new PartialFailure(floorError, figures);
      return { ...figures, pullFloorMBps: mb / median(floors), pullOverFloor: median(pulls) / median(floors) };
    } finally {
      if (spec.name === last) await stopBenchRegistry();
    }
  },
};
