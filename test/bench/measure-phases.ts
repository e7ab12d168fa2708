// The API calls of a container's life, each timed alone: create, start, stop, remove.
// busybox sleep as pid 1 ignores SIGTERM (the kernel drops signals pid 1 has no handler for),
// so the container is a shell that exits on TERM: stop then measures the daemon, not the grace period.
import { median, type Benchmark } from './benchmark.js';
import { createContainer, removeContainer, startContainer, stopContainer, timed, withBusybox } from './busybox-daemon.js';
import { COUNTS } from './counts.js';

const CMD = ['sh', '-c', 'trap "exit 0" TERM; sleep 1000 & wait'];

export const phases: Benchmark = {
  name: 'phases',
  metrics: ['createMs', 'startMs', 'stopMs', 'removeMs'],
  run: (spec) => withBusybox(spec, async (d) => {
    const t = { createMs: [] as number[], startMs: [] as number[], stopMs: [] as number[], removeMs: [] as number[] };
    for (let round = 0; round < COUNTS.warmups + COUNTS.phaseRounds; round++) {
      let id = '';
      const create = await timed(async () => { id = await createContainer(d, CMD); });
      const start = await timed(() => startContainer(d, id));
      const stop = await timed(() => stopContainer(d, id, 1));
      const remove = await timed(() => removeContainer(d, id));
      if (round < COUNTS.warmups) continue;
      t.createMs.push(create);
      t.startMs.push(start);
      t.stopMs.push(stop);
      t.removeMs.push(remove);
    }
    return { createMs: median(t.createMs), startMs: median(t.startMs), stopMs: median(t.stopMs), removeMs: median(t.removeMs) };
  }),
};
