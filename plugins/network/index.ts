// The network plugin: the `networks` service (driver registry, controller), the network jobs, and
// its part in containers' lives through the containers service's hooks.
import { join } from 'node:path';
import { definePlugin } from '../../core/plugin-api.js';
import type { EventsService } from '../events/index.js';
import { NetworkController } from './controller.js';
import { NETWORK_DRIVER_API, type NetworkDriver, type NetworkDriverRegistration } from './driver.js';
import { tapContainerHooks } from './container-hooks.js';
import { registerLinkJobs } from './container-links.js';
import type { ContainersService } from '../container-store/index.js';
import { registerNetworkJobs } from './jobs.js';
import { NetworkStore } from './network-store.js';
import { NetnsFiles } from './netns.js';
import { Sandboxes } from './sandboxes.js';

export { NETWORK_DRIVER_API } from './driver.js';
export type { NetworkDriver, NetworkDriverRegistration, NetworkRecord, EndpointRecord, PortBinding, DefaultNetworkRequest } from './driver.js';
export { type JoinOptions } from './driver.js';
export { cidrString, contains, intToIp, isIp, parseCidr } from './cidr.js';
export { freePool } from './pools.js';
export { NETWORK_LIST_FILTERS } from './jobs.js';

/** The `networks` service (interface version 2.0.0: containers() gave way to the containers service's hooks). */
export interface NetworksService {
  serviceVersion: string;
  /** Kept for drivers written before ctx.drivers: registers { name, api: apiVersion, driver }. */
  registerDriver(driver: NetworkDriver): void;
  /** Subnets the stored networks hold (for a driver choosing a default pool). */
  controller(): NetworkController;
}

export default definePlugin({
  init(ctx) {
    ctx.drivers.declareKind('network', {
      version: NETWORK_DRIVER_API,
      onRegister({ name, plugin, registration }) {
        const d = (registration as Partial<NetworkDriverRegistration>).driver;
        if (d?.name !== name) throw ctx.errors.pluginError(plugin, `network driver "${name}": driver.name must be "${name}", got ${JSON.stringify(d?.name)}`);
      },
    });
    const store = new NetworkStore(ctx.stateDir, ctx.fs);
    const ctl = new NetworkController(store, ctx.log, () => ctx.drivers.list<NetworkDriverRegistration>('network'), ctx.schema.validate);
    const sandboxes = new Sandboxes(ctl, new NetnsFiles(join(ctx.daemon.execRoot, 'netns')), ctx.log);
    sandboxes.daemonDns = {
      dns: (ctx.config.dns as string[]) ?? [], search: (ctx.config['dns-search'] as string[]) ?? [], options: (ctx.config['dns-opts'] as string[]) ?? [],
    };
    const containers = ctx.services.get<ContainersService>('containers');
    tapContainerHooks(containers, store, sandboxes);
    // After the containers stopped: without live-restore everything the networks hold on the host goes.
    containers.hooks.shutdown.tapPromise('networks', async ({ liveRestore }) => {
      sandboxes.dns.closeAll();
      if (!liveRestore) for (const id of [...store.sandboxes.keys()]) await sandboxes.release(id).catch((err) => ctx.log.warn({ err }, 'cannot release network'));
      await ctl.shutdown(liveRestore);
    });
    ctx.services.provide<NetworksService>('networks', {
      serviceVersion: '2.0.0',
      registerDriver: (d) => ctx.drivers.register<NetworkDriverRegistration>('network', { name: d.name, api: d.apiVersion ?? '1.0.0', driver: d }),
      controller: () => ctl,
    });
    registerNetworkJobs(ctx, ctl, sandboxes);
    registerLinkJobs(ctx, containers, store, () => sandboxes.refreshHosts());
    const bus = ctx.services.get<EventsService>('events').bus;
    sandboxes.emit = (e) => bus.publish(e);

    // Before the containers are restored (their restart policies start them on these networks).
    ctx.hooks.ready.tapPromise({ name: 'restore-networks', stage: -50 }, async () => {
      await store.load();
      await ctl.restore();
      await sandboxes.restore();
      await ctl.restored();
    });
  },
});
