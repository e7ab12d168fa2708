// The soak workload (test/helpers/soak.ts) as a benchmark: 50 clients running `busybox true`
// through create → start → wait → rm over the API, 200 cycles, while 100 readers list containers
// and images. Berth also serves --metrics-addr, whose event-loop lag window covers the round;
// dockerd's event loop cannot be measured (n/a). Beside it, an idle Node process measures its own
// lag: what the machine's load alone costs (on a busy 2-core host it is far from zero).
import { freePort } from '../helpers/ports.js';
import { percentile, promValue, scrapeMetrics, soakRound, startLagProbe } from '../helpers/soak.js';
import { PartialFailure, type Benchmark } from './benchmark.js';
import { IMAGE, withBusybox } from './busybox-daemon.js';
import { withArgs } from './daemons.js';

export const soak: Benchmark = {
  name: 'soak',
  metrics: ['soakOpsPerSec', 'soakP99Ms', 'soakErrors', 'soakLagMaxMs', 'soakLagP99Ms', 'soakIdleLagMaxMs', 'soakIdleLagP99Ms'],
  run: async (base) => {
    const port = base.name === 'berth' ? await freePort() : undefined;
    const spec = port === undefined ? base : withArgs(base, base.label, '--metrics-addr', `127.0.0.1:${port}`);
    return withBusybox(spec, async (d) => {
      if (port !== undefined) await scrapeMetrics(port); // the lag window starts with the round
      const probe = startLagProbe();
      let r;
      let idle;
      try {
        await probe.read();
        r = await soakRound({ socket: d.socket, image: IMAGE });
        idle = await probe.read();
      } finally {
        probe.stop();
      }
      const figures: Record<string, number> = {
        soakOpsPerSec: r.ops / r.seconds,
        soakP99Ms: percentile(r.cycleMs, 99),
        soakErrors: r.errors.length,
        soakIdleLagMaxMs: idle.max,
        soakIdleLagP99Ms: idle.p99,
      };
      if (port !== undefined) {
        const m = await scrapeMetrics(port);
        figures.soakLagMaxMs = (promValue(m, 'berth_event_loop_lag_window_seconds{stat="max"}') ?? NaN) * 1000;
        figures.soakLagP99Ms = (promValue(m, 'berth_event_loop_lag_window_seconds{stat="p99"}') ?? NaN) * 1000;
      }
      if (r.errors.length) throw new PartialFailure(`${r.errors.length} failed requests, first: ${r.errors[0]}`, figures);
      return figures;
    });
  },
};
