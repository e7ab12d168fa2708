// The graph plugin: graph drivers register with it; at start it selects one and opens it.
import { definePlugin } from '../../core/plugins/context.js';
import { GRAPH_DRIVER_API, type DriverRegistration, type GraphDriver } from './driver.js';
import { selectDriver } from './select-driver.js';

export type { Change, DriverRegistration, GraphDriver } from './driver.js';
export { GRAPH_DRIVER_API } from './driver.js';
export { type CreateOptions } from './driver.js';

export interface GraphService {
  /** Kept for drivers written before ctx.drivers: the same as ctx.drivers.register('graph', reg),
   * with api 1.0.0 when the registration names none. */
  registerDriver(reg: Omit<DriverRegistration, 'api'> & { api?: string }): void;
  /** The selected driver; available from the ready hook on (the graph plugin taps it first). */
  driver(): GraphDriver;
}

export default definePlugin({
  init(ctx) {
    let selected: GraphDriver | undefined;
    ctx.drivers.declareKind('graph', {
      version: GRAPH_DRIVER_API,
      onRegister(d) {
        if (selected) throw ctx.errors.conflict(`graph driver ${d.name} registered after selection`);
      },
    });
    ctx.services.provide<GraphService>('graph', {
      registerDriver: (reg) => ctx.drivers.register<DriverRegistration>('graph', { ...reg, api: reg.api ?? '1.0.0' }),
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
        drivers: ctx.drivers.list<DriverRegistration>('graph'),
        validate: ctx.schema.validate,
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
