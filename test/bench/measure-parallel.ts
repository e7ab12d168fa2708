// Many `docker run --rm busybox true` at once: total wall time of the batch and runs per second.
import { median, type Benchmark } from './benchmark.js';
import { timed, withBusybox } from './busybox-daemon.js';
import { COUNTS } from './counts.js';
import { dockerOk } from './docker-cli.js';
import { RUN } from './measure-run.js';

export const parallel: Benchmark = {
  name: 'parallel',
  metrics: ['parallelMs', 'parallelRps'],
  run: (spec) => withBusybox(spec, async (d) => {
    for (let i = 0; i < COUNTS.warmups; i++) await dockerOk(d, RUN);
    const totals: number[] = [];
    for (let round = 0; round < COUNTS.parallelRounds; round++) {
      totals.push(await timed(() => Promise.all(Array.from({ length: COUNTS.parallel }, () => dockerOk(d, RUN, 120_000)))));
    }
    const ms = median(totals);
    return { parallelMs: ms, parallelRps: COUNTS.parallel / (ms / 1000) };
  }),
};
