// PSS of a daemon with many running containers: the daemon's tree plus its per-container
// monitors (Berth: conmon; dockerd: containerd and its shims), not the containers' own processes.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Benchmark } from './benchmark.js';
import { makeContainers, withBusybox } from './busybox-daemon.js';
import { COUNTS } from './counts.js';
import { treeMemory } from './proc-tree.js';

const SETTLE_MS = 2_000;

export const containerMemory: Benchmark = {
  name: 'container-memory',
  metrics: ['pssRunningMiB', 'processesRunning'],
  run: (spec) => withBusybox(spec, async (d) => {
    await makeContainers(d, COUNTS.runningContainers, ['sleep', '1000'], true);
    await sleep(SETTLE_MS);
    const family = d.family();
    const containers = new Set(family.containers.map((p) => p.pid));
    const procs = new Map([...d.tree(), ...family.monitors].filter((p) => !containers.has(p.pid)).map((p) => [p.pid, p]));
    const m = treeMemory([...procs.values()]);
    return { pssRunningMiB: m.pssKb / 1024, processesRunning: m.processes };
  }),
};
