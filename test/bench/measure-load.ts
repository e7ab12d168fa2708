// docker load throughput: a ~100 MB five-layer docker-archive POSTed to /images/load, each run
// on a fresh daemon (fresh data root) so no layer is already there. Each daemon uses its
// default graph driver (Berth: overlay when it works here; dockerd: overlay2).
import { median, type Benchmark } from './benchmark.js';
import { scratchDir, withDaemon } from './daemons.js';
import { writeLoadArchive, type Archive } from './docker-archive.js';
import { loadArchive } from './image-load.js';

const RUNS = 3;

let archive: Archive | undefined;
/** Generated once per bench run, on first use, and shared by both daemons. */
function loadArchiveFile(): Archive {
  archive ??= writeLoadArchive(scratchDir('load-archive'));
  return archive;
}

export const load: Benchmark = {
  name: 'load',
  metrics: ['loadMBps'],
  async run(spec) {
    const a = loadArchiveFile();
    const rates: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const seconds = await withDaemon(spec, (d) => loadArchive(d, a));
      rates.push(a.bytes / 1e6 / seconds);
    }
    return { loadMBps: median(rates) };
  },
};
