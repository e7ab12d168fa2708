// Launch-to-ready and SIGTERM-to-exit, both medians over the same few launches.
import { setTimeout as sleep } from 'node:timers/promises';
import { median, type Benchmark } from './benchmark.js';
import { COUNTS } from './counts.js';
import { launch, terminate, waitReady } from './daemons.js';

// Let start-up work settle so the exit time is that of an idle daemon.
const IDLE_MS = 500;

export const lifecycle: Benchmark = {
  name: 'lifecycle',
  metrics: ['readyMs', 'exitMs'],
  async run(spec) {
    const ready: number[] = [];
    const exit: number[] = [];
    for (let i = 0; i < COUNTS.launches; i++) {
      const d = launch(spec);
      try {
        ready.push(await waitReady(d));
        await sleep(IDLE_MS);
        exit.push(await terminate(d));
      } finally {
        await d.cleanup();
      }
    }
    return { readyMs: median(ready), exitMs: median(exit) };
  },
};
