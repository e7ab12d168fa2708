// GET /containers/json?all=1 over keep-alive connections with many (created, not started) containers.
import type { Benchmark } from './benchmark.js';
import { makeContainers, withBusybox } from './busybox-daemon.js';
import { COUNTS } from './counts.js';
import { measurePath } from './measure-throughput.js';

export const list: Benchmark = {
  name: 'list',
  metrics: ['listRps'],
  run: (spec) => withBusybox(spec, async (d) => {
    await makeContainers(d, COUNTS.listedContainers, ['true'], false);
    return { listRps: await measurePath(d.socket, '/containers/json?all=1') };
  }),
};
