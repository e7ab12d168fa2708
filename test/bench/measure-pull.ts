// docker pull throughput: a ~100 MB five-layer image from a local registry (bench-registry.ts),
// POST /images/create on a fresh daemon (fresh data root) per run, so no layer is there yet.
// Throughput counts the compressed layer blob bytes downloaded (random data: about the same as
// uncompressed). Alongside each pull runs the floor: the same layer blobs fetched by curl, three at
// once like the daemons' default max-concurrent-downloads, each piped into `tar -xz` onto a tmpfs
// (so it measures download, decompression and unpacking, not the disk), no digest check. For
// reference, the same floor onto the disk the data roots are on, and each daemon again with its
// data root on a tmpfs (then it and the floor write to the same kind of file system).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, PartialFailure, type Benchmark } from './benchmark.js';
import { benchImage, stopBenchRegistry, type BenchImage } from './bench-registry.js';
import { pool, timed } from './busybox-daemon.js';
import { COUNTS } from './counts.js';
import { berthd, dockerd, registerUndo, scratchDir, withDaemon, type Daemon, type DaemonSpec } from './daemons.js';
import { apiCall } from './unix-http.js';

const CONCURRENCY = 3;

const settleDisk = () => spawnSync('sync', { stdio: 'ignore' });
const PULL_IDLE_MS = 120_000;

/** Pulls the image; resolves with the seconds the daemon took to answer POST /images/create in full. */
async function pullImage(d: Daemon, img: BenchImage): Promise<number> {
  // /_ping may answer before the daemon restored its state (Berth does): the pull is timed from
  // when the image routes answer, so it does not include the daemon's start.
  const ready = await apiCall(d.socket, 'GET', '/images/json');
  if (ready.status !== 200) throw new Error(`GET /images/json before the pull: HTTP ${ready.status}: ${ready.body.slice(0, 300)}`);
  const path = `/images/create?fromImage=${encodeURIComponent(img.repository)}&tag=${img.tag}`;
  settleDisk();
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

/** A tmpfs at `dir` (made if needed). */
function mountTmpfs(dir: string, name: string): void {
  mkdirSync(dir, { recursive: true });
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1g,mode=0700', name, dir], { encoding: 'utf8' });
  if (m.status !== 0) throw new Error(`mount tmpfs on ${dir}: ${m.error?.message ?? m.stderr.trim()}`);
}

/** The same, with its unmount, registered to run on an interrupted run too. */
function ownTmpfs(dir: string, name: string): () => void {
  mountTmpfs(dir, name);
  return registerUndo(() => {
    if (spawnSync('umount', [dir], { stdio: 'ignore' }).status !== 0) spawnSync('umount', ['-l', dir], { stdio: 'ignore' });
  });
}

/**
 * The floor: curl | tar -xz of every layer, three at once, into a scratch folder: on a tmpfs (the
 * floor the targets use: download, decompression and unpacking without the disk) or on the disk
 * the daemons' data roots are on (what file creation there costs even GNU tar).
 */
class Floor {
  readonly dir: string;
  private pipelines = new Set<number>();
  readonly release: () => void;

  constructor(onTmpfs: boolean) {
    this.dir = join(scratchDir(onTmpfs ? 'pull-floor' : 'pull-floor-disk'), 'root');
    const unmount = onTmpfs ? ownTmpfs(this.dir, 'berth-bench-pull') : (mkdirSync(this.dir), () => {});
    this.release = registerUndo(() => {
      for (const pgid of this.pipelines) {
        try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ }
      }
      unmount();
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

  /** Seconds to fetch and unpack every layer (each into its own folder: they do not overlap), then empties the folder. */
  async run(img: BenchImage): Promise<number> {
    const into = join(this.dir, 'run');
    const dirs = img.layerUrls.map((_, i) => join(into, `layer${i}`));
    for (const d of dirs) mkdirSync(d, { recursive: true });
    try {
      settleDisk();
      const ms = await timed(() => pool(img.layerUrls.length, CONCURRENCY, (i) => this.fetch(img.layerUrls[i], dirs[i])));
      return ms / 1000;
    } finally {
      rmSync(into, { recursive: true, force: true });
    }
  }
}

/** The daemon with its data root on a tmpfs of its own (made before it starts, gone with its folder). */
function onTmpfs(spec: DaemonSpec): DaemonSpec {
  return {
    ...spec,
    command: (dir) => {
      // launch's clean-up unmounts everything under the daemon's folder.
      mountTmpfs(join(dir, 'data'), 'berth-bench-data');
      return spec.command(dir);
    },
  };
}

export const pull: Benchmark = {
  name: 'pull',
  metrics: ['pullMBps', 'pullFloorMBps', 'pullOverFloor', 'pullDiskFloorMBps', 'pullTmpfsMBps', 'pullTmpfsOverFloor'],
  only: [berthd.name, dockerd.name],
  async run(spec) {
    // The registry serves both daemons, then stops with the last of them.
    const last = dockerd.available() ? dockerd.name : berthd.name;
    try {
      const img = await benchImage();
      const mb = img.layerBytes / 1e6;
      const floors: Floor[] = [];
      let floorError: string | undefined;
      try {
        floors.push(new Floor(true), new Floor(false));
      } catch (err) {
        floorError = (err as Error).message;
      }
      const runs = { pull: [] as number[], tmpfsPull: [] as number[], floor: [] as number[], diskFloor: [] as number[] };
      const floorRun = async (f: Floor | undefined, into: number[]) => {
        if (f && !floorError) into.push(await f.run(img).catch((err: Error) => { floorError = err.message; return NaN; }));
      };
      try {
        // Floors and daemons take turns, so all see the same machine conditions; each timed run
        // starts with the page cache flushed (sync): no run pays for the write-back of the one before.
        for (let i = 0; i < COUNTS.pullRuns; i++) {
          await floorRun(floors[0], runs.floor);
          runs.pull.push(await withDaemon(spec, (d) => pullImage(d, img)));
          await floorRun(floors[1], runs.diskFloor);
          runs.tmpfsPull.push(await withDaemon(onTmpfs(spec), (d) => pullImage(d, img)));
        }
      } finally {
        for (const f of floors) f.release();
      }
      const figures = { pullMBps: mb / median(runs.pull), pullTmpfsMBps: mb / median(runs.tmpfsPull) };
      if (floorError) throw new PartialFailure(floorError, figures);
      return {
        ...figures,
        pullFloorMBps: mb / median(runs.floor),
        pullOverFloor: median(runs.pull) / median(runs.floor),
        pullDiskFloorMBps: mb / median(runs.diskFloor),
        pullTmpfsOverFloor: median(runs.tmpfsPull) / median(runs.floor),
      };
    } finally {
      if (spec.name === last) await stopBenchRegistry();
    }
  },
};
