// Idle resident memory of the daemon's whole process tree (dockerd counts its containerd).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Benchmark } from './benchmark.js';
import { withDaemon } from './daemons.js';
import { treeMemory } from './proc-tree.js';

const SETTLE_MS = 1_000;

export const memory: Benchmark = {
  name: 'memory',
  metrics: ['rssMiB', 'pssMiB', 'processes'],
  run: (spec) => withDaemon(spec, async (d) => {
    await sleep(SETTLE_MS);
    const m = treeMemory(d.tree());
    return { rssMiB: m.rssKb / 1024, pssMiB: m.pssKb / 1024, processes: m.processes };
  }),
};
