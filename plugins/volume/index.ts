// The volume plugin: the `volumes` service (the volume-driver kind, metadata, reference counts,
// events), the volume jobs, and every mount of a container through the containers service's hooks.
// This index is the contract other plugins import.
import { definePlugin } from '../../core/plugin-api.js';
import type { SystemService } from '../api-system/index.js';
import type { ContainersService } from '../container-store/index.js';
import type { EventsService } from '../events/index.js';
import type { GraphService } from '../graph/index.js';
import { tapContainerMounts } from './container-mounts.js';
import { VOLUME_DRIVER_API, type VolumeDriverRegistration } from './driver.js';
import { createVolumeHooks, type VolumeHooks } from './hooks.js';
import { registerVolumeJobs } from './jobs.js';
import { defaultRoot, Volumes, type CreateVolumeRequest, type VolumeView } from './service.js';
import { VolumeStore, type VolumeRecord } from './volume-store.js';

export { VOLUME_DRIVER_API } from './driver.js';
export type { VolumeDriver, VolumeDriverCapabilities, VolumeDriverRegistration, VolumeInfo } from './driver.js';
export type { VolumeHooks } from './hooks.js';
export type { MountPoint } from './mount-spec.js';
export type { CreateVolumeRequest, VolumeView } from './service.js';
export type { VolumeRecord } from './volume-store.js';
export { VOLUME_LIST_FILTERS, VOLUME_PRUNE_FILTERS } from './service.js';
export { ANONYMOUS_LABEL, checkVolumeName } from './names.js';

/** The `volumes` service (interface version 1.0.0). */
export interface VolumesService {
  serviceVersion: string;
  /** Tap these to supply drivers found on demand (resolveDriver) and name them in docker info (driverNames). */
  hooks: VolumeHooks;
  create(req: CreateVolumeRequest): Promise<VolumeView>;
  get(name: string): Promise<VolumeView>;
  list(filters: Record<string, string[]>): Promise<{ Volumes: VolumeView[]; Warnings: string[] }>;
  remove(name: string, force?: boolean): Promise<void>;
  prune(filters: Record<string, string[]>, all: boolean): Promise<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>;
  /** The containers that use a volume (what keeps it from removal). */
  usersOf(name: string): string[];
  /** The metadata of a volume, undefined when there is none of that name. */
  record(name: string): VolumeRecord | undefined;
}

export default definePlugin({
  init(ctx) {
    ctx.drivers.declareKind('volume', {
      version: VOLUME_DRIVER_API,
      onRegister({ name, plugin, registration }) {
        if (typeof (registration as Partial<VolumeDriverRegistration>).open !== 'function') throw ctx.errors.pluginError(plugin, `volume driver "${name}": open must be a function`);
      },
    });
    const hooks = createVolumeHooks();
    const store = new VolumeStore(ctx.stateDir, ctx.fs, ctx.log);
    const volumes = new Volumes(store, hooks, () => ctx.drivers.list<VolumeDriverRegistration>('volume'), defaultRoot(ctx.daemon.dataRoot, ctx.stateDir), ctx.log);
    const bus = ctx.services.get<EventsService>('events').bus;
    volumes.emit = (e) => bus.publish(e);
    const containers = ctx.services.get<ContainersService>('containers');
    const mounts = tapContainerMounts(containers, volumes, ctx.services.get<GraphService>('graph'), ctx.log);
    ctx.services.provide<VolumesService>('volumes', {
      serviceVersion: '1.0.0',
      hooks,
      create: async (req) => volumes.view((await volumes.create(req)).record),
      get: (name) => volumes.get(name),
      list: (filters) => volumes.list(filters),
      remove: (name, force) => volumes.remove(name, force),
      prune: (filters, all) => volumes.prune(filters, all),
      usersOf: (name) => store.usersOf(name),
      record: (name) => store.volumes.get(name),
    });
    registerVolumeJobs(ctx, volumes);

    // Before the containers are restored (a restart policy starts them with their volumes).
    ctx.hooks.ready.tapPromise({ name: 'load-volumes', stage: -40 }, async () => {
      await store.load();
      await volumes.openRegistered();
    });
    ctx.hooks.ready.tapPromise({ name: 'restore-volume-mounts', stage: 10 }, () => mounts.restore());
    containers.hooks.shutdown.tapPromise('volumes', async () => {
      for (const r of ctx.drivers.list<VolumeDriverRegistration>('volume')) await (await volumes.driver(r.name)).cleanup().catch(() => {});
    });

    const system = ctx.services.get<SystemService>('system');
    system.hooks.info.tap('volumes', (info) => ({ ...info, Plugins: { ...(info.Plugins as object), Volume: volumes.driverNames() } }));
    system.hooks.df.tapPromise('volumes', async (usage) => ({ ...usage, Volumes: await volumes.usage() }));
  },
});
