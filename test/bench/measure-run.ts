// `docker run --rm busybox true` with the real CLI, one at a time: the wall time a user waits.
import { median, type Benchmark } from './benchmark.js';
import { IMAGE, RUN_ARGS, withBusybox } from './busybox-daemon.js';
import { COUNTS } from './counts.js';
import { dockerOk } from './docker-cli.js';

export const RUN = ['run', '--rm', ...RUN_ARGS, IMAGE, 'true'];

export const run: Benchmark = {
  name: 'run',
  metrics: ['runMs'],
  run: (spec) => withBusybox(spec, async (d) => {
    for (let i = 0; i < COUNTS.warmups; i++) await dockerOk(d, RUN);
    const times: number[] = [];
    for (let i = 0; i < COUNTS.runs; i++) times.push((await dockerOk(d, RUN)).ms);
    return { runMs: median(times) };
  }),
};
