// The graph plugin: graph drivers register with it; at start it selects one and opens it.
import { definePlugin } from '../../core/plugins/context.js';
import type { DriverRegistration, GraphDriver } from './driver.js';
import { selectDriver } from './select-driver.js';

export type { Change, DriverRegistration, GraphDriver } from './driver.js';
export { GRAPH_DRIVER_API } from './driver.js';
export { type CreateOptions } from './driver.js';

export interface GraphService {
  registerDriver(reg: DriverRegistration): void;
  /** The selected driver; available from the ready hook on (the graph plugin taps it first). */
  driver(): GraphDriver;
}

export default definePlugin({
  init(ctx) {
    const drivers: DriverRegistration[] = [];
    let selected: GraphDriver | undefined;
    ctx.services.provide<GraphService>('graph', {
      registerDriver(reg) {
        if (selected) throw ctx.errors.conflict(`graph driver ${reg.name} registered after selection`);
        if (drivers.some((d) => d.name === reg.name)) throw ctx.errors.conflict(`graph driver ${reg.name} is already registered`);
        drivers.push(reg);
      },
      driver() {
        if (!selected) throw ctx.errors.systemError('no graph driver selected yet');
        return selected;
      },
    });
    // Drivers register during their own init, which runs after this one: choose when all are in.
    // A stop during start-up waits for the selection: its probe mount must not outlive the daemon.
    let selecting: Promise<GraphDriver> | undefined;
    ctx.hooks.ready.tapPromise({ name: 'select-driver', stage: -100 }, async () => {
      selected = await (selecting = selectDriver({
        drivers,
        chosen: ctx.config['storage-driver'] as string | undefined,
        storageOpts: ctx.config['storage-opts'] as string[],
        dataRoot: ctx.daemon.dataRoot,
        log: ctx.log,
      }));
      ctx.daemon.describe('graphdriver', selected.name);
    });
    ctx.hooks.shutdown.tapPromise('cleanup-driver', async () => {
      await selecting?.catch(() => undefined);
      await selected?.cleanup();
    });
  },
});
