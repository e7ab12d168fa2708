// The network plugin: the `networks` service (driver registry, controller, the container side),
// the network jobs, and the container jobs decorated with networking.
import { join } from 'node:path';
import { definePlugin } from '../../core/plugins/context.js';
import type { EventsService } from '../events/index.js';
import { NetworkController } from './controller.js';
import { NETWORK_DRIVER_API, type NetworkDriver, type NetworkDriverRegistration } from './driver.js';
import { wrapContainerJobs } from './container-jobs.js';
import { registerNetworkJobs } from './jobs.js';
import { NetworkStore } from './network-store.js';
import { NetnsFiles } from './netns.js';
import { Sandboxes, type ContainerLike } from './sandboxes.js';

export { NETWORK_DRIVER_API } from './driver.js';
export type { NetworkDriver, NetworkDriverRegistration, NetworkRecord, EndpointRecord, PortBinding, DefaultNetworkRequest } from './driver.js';

/** What the container runtime calls around a container's run (container-store's lifecycle). */
export interface ContainerNetworking {
  /** Before the runtime creates the container: namespace, interfaces, ports, hosts and resolv.conf
   * in `dir`; returns the namespace to join (a path, or 'host'). */
  prepare(c: ContainerLike, dir: string): Promise<{ network?: string }>;
  /** After it stopped, or failed to start. */
  release(c: { Id: string }): Promise<void>;
  /** The daemon stops; without live-restore everything the networks hold on the host goes. */
  shutdown(liveRestore: boolean): Promise<void>;
}

/** The `networks` service (interface version 1.0.0). */
export interface NetworksService {
  serviceVersion: string;
  /** Kept for drivers written before ctx.drivers: registers { name, api: apiVersion, driver }. */
  registerDriver(driver: NetworkDriver): void;
  containers(): ContainerNetworking;
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
    const networking: ContainerNetworking = {
      prepare: (c, dir) => sandboxes.prepare(c, dir),
      release: (c) => sandboxes.release(c.Id),
      shutdown: async (liveRestore) => {
        sandboxes.dns.closeAll();
        if (!liveRestore) for (const id of [...store.sandboxes.keys()]) await sandboxes.release(id).catch((err) => ctx.log.warn({ err }, 'cannot release network'));
        await ctl.shutdown(liveRestore);
      },
    };
    ctx.services.provide<NetworksService>('networks', {
      serviceVersion: '1.0.0',
      registerDriver: (d) => ctx.drivers.register<NetworkDriverRegistration>('network', { name: d.name, api: d.apiVersion ?? '1.0.0', driver: d }),
      containers: () => networking,
      controller: () => ctl,
    });
    registerNetworkJobs(ctx, ctl, sandboxes);
    const bus = ctx.services.get<EventsService>('events').bus;
    sandboxes.emit = (e) => bus.publish(e);

    ctx.hooks.ready.tapPromise('restore-networks', async () => {
      wrapContainerJobs(ctx, store, sandboxes);
      await store.load();
      await ctl.restore();
      await sandboxes.restore();
    });
  },
});
