// The container store plugin: container records on disk, their read-write layers, the jobs.
import { join } from 'node:path';
import { definePlugin, type JobEvent } from '../../core/plugin-api.js';
import { addWarnings, type SystemService } from '../api-system/index.js';
import type { GraphService } from '../graph/index.js';
import type { ImagesService } from '../image-store/index.js';
import type { RuntimesService } from '../exec/index.js';
import { ContainerFs } from './fs/index.js';
import { Execs, registerExecJobs } from './exec/index.js';
import { registerFsJobs } from './fs/index.js';
import { HealthMonitor } from './health/index.js';
import { containerEvent, registerContainerJobs, type Container } from './records/index.js';
import { createContainerHooks, type ContainerHooks } from './hooks.js';
import { ContainerRuntime } from './lifecycle/index.js';
import { daemonLogConfig, validateLogConfig } from './logs/index.js';
import { LogRotator } from './logs/index.js';
import { registerLogsJob } from './logs/index.js';
import { restoreContainers } from './lifecycle/index.js';
import { registerResourceJobs } from './resources/index.js';
import { registerRunJobs } from './lifecycle/index.js';
import { stopContainersOnShutdown } from './lifecycle/index.js';
import { ContainerStore } from './records/index.js';
import { registerTtyJobs } from './lifecycle/index.js';
export { parseDetachKeys } from './lifecycle/detach-keys.js';
export { type CreatePayload } from './records/jobs.js';
export { CONTAINER_LIST_FILTERS } from './records/views.js';
export { type CommitPayload } from './fs/commit.js';
export { PATH_STAT_HEADER, type PathStat, encodePathStat } from './fs/path-stat.js';
export type { ContainerHooks, CreateRequest, RemovedContext, StartingContext } from './hooks.js';
export type { Container } from './records/index.js';

/** The `containers` service (interface version 1.1.0: hooks since 1.1). */
export interface ContainersService {
  serviceVersion: string;
  store(): ContainerStore;
  runtime(): ContainerRuntime;
  /** Tap these to follow containers (created, starting, stopped, removed …); never call them. */
  hooks: ContainerHooks;
}

export default definePlugin({
  init(ctx) {
    const images = ctx.services.get<ImagesService>('images');
    const graph = ctx.services.get<GraphService>('graph');
    const system = ctx.services.get<SystemService>('system');
    const runtimes = ctx.services.get<RuntimesService>('runtimes');
    let containers: ContainerStore | undefined;
    const store = () => {
      if (!containers) throw ctx.errors.unavailable('the container store is not ready yet');
      return containers;
    };
    // Events from exits (no job is running then) go straight to the event bus through a job.
    const publish = (ev: JobEvent) => {
      void ctx.engine.run('container.event', ev).catch((err) => ctx.log.warn({ err }, 'cannot publish container event'));
    };
    ctx.engine.register<JobEvent, void>('container.event', {
      description: 'publishes a container state change that happened outside a job (an exit)',
      schema: {
        type: 'object', required: ['Type', 'Action', 'Actor'],
        properties: {
          Type: { type: 'string', minLength: 1 }, Action: { type: 'string', minLength: 1 }, scope: { enum: ['local', 'swarm'] },
          Actor: {
            type: 'object', required: ['ID', 'Attributes'],
            properties: { ID: { type: 'string' }, Attributes: { type: 'object', additionalProperties: { type: 'string' } } },
          },
        },
      },
      run: (job) => job.emit(job.payload),
    });
    const health: HealthMonitor = new HealthMonitor({ store, runtimes, graph, log: ctx.log, publish, event: (c, action, extra): JobEvent => lifecycle.event(c, action, extra) });
    const init = { enabled: Boolean(ctx.config.init), path: (ctx.config['init-path'] as string | undefined) || undefined };
    const hooks = createContainerHooks();
    // One way out for every removal (docker rm, prune, --rm): layer, record, then the removed hook.
    const remove = async (c: Container, emit: (ev: JobEvent) => void, lenient = false, removeVolumes = false) => {
      // Whatever the runtime still holds of it goes first (a created container a crash left).
      const driver = await runtimes.get((c.HostConfig.Runtime as string | undefined) || undefined).catch(() => undefined);
      await driver?.delete(c.Id).catch((err) => ctx.log.warn({ err, container: c.Id }, 'runtime delete failed'));
      await images.store().layers.removeRwLayer(c.Id).catch((err) => { if (!lenient) throw err; });
      await store().remove(c);
      await hooks.removed.promise(c, { removeVolumes });
      emit(containerEvent(c, 'destroy'));
    };
    // An image a container was made from cannot be deleted without force.
    images.hooks.inUse.tap('containers', (imageId) => containers?.all().find((c) => c.Image === imageId)?.Id);
    // A layer under a container's read-write layer stays; so does every layer while a container's
    // record is unreadable (which layer it sits on is unknown).
    images.hooks.layerInUse.tap('containers', (chainId) => {
      if (!containers) return 'the container store (not loaded yet)';
      if (containers.setAside.some((a) => a.now)) return 'an unreadable container record';
      return containers.all().find((c) => c.ImageTopLayer === chainId)?.Id;
    });
    const lifecycle: ContainerRuntime = new ContainerRuntime(store, runtimes, graph, ctx.log, publish, (c) => remove(c, publish, true, true), { init, observer: health, hooks });
    ctx.hooks.shutdown.tap('health-monitor', () => health.closeAll());
    // As dockerd: a bad daemon-wide log-driver or log-opts stops the daemon at start.
    try {
      validateLogConfig(daemonLogConfig(ctx.config));
    } catch (err) {
      throw ctx.errors.configError(`failed to set log opts: ${(err as Error).message}`);
    }
    const rotator = new LogRotator({ store, runtimes, log: ctx.log });
    ctx.hooks.shutdown.tapPromise('log-rotation', () => rotator.close());
    // --live-restore: containers keep running across the daemon's stops and crashes.
    let liveRestore = Boolean(ctx.config['live-restore']);
    ctx.services.provide<ContainersService>('containers', { serviceVersion: '1.1.0', store, runtime: () => lifecycle, hooks });

    ctx.hooks.ready.tapPromise('restore-containers', async () => {
      containers = new ContainerStore(join(ctx.daemon.dataRoot, 'containers'), ctx.log, ctx.fs);
      await containers.load();
      const s = containers;
      await restoreContainers({ store: s, runtime: lifecycle, runtimes, graph, log: ctx.log, liveRestore, publish });
      // Health monitors resume on containers adopted with their monitor (live restore).
      for (const c of s.all()) if (c.State.Running) health.resumed(c);
      rotator.start();
    });
    ctx.hooks.shutdown.tapPromise('stop-containers', async (context) => {
      if (containers) await stopContainersOnShutdown({ store: containers, runtime: lifecycle, log: ctx.log, liveRestore, context });
      await hooks.shutdown.promise({ liveRestore });
    });
    ctx.hooks.reload.tapPromise('live-restore', async ({ changed }) => {
      if ('live-restore' in changed) liveRestore = Boolean(changed['live-restore']);
    });

    registerContainerJobs(ctx, {
      store, images: () => images.store(), driverName: () => graph.driver().name, runtime: () => lifecycle, hooks, remove,
      graphMetadata: async (id) => (await graph.driver().metadata?.(id)) ?? null,
    });
    registerRunJobs(ctx, store, () => lifecycle, runtimes);
    registerLogsJob(ctx, store, () => lifecycle, runtimes);
    registerResourceJobs(ctx, store, () => lifecycle, runtimes);
    const execs = new Execs(store, () => lifecycle, runtimes, graph);
    registerExecJobs(ctx, execs);
    registerTtyJobs(ctx, store, () => lifecycle, runtimes, execs);
    registerFsJobs(ctx, { store, images: () => images.store(), graph, fs: new ContainerFs(graph, runtimes, ctx.log), runtime: () => lifecycle });

    system.hooks.info.tap('containers', (info) => {
      info = { ...info, Runtimes: runtimes.describe(), DefaultRuntime: runtimes.defaultName(), LoggingDriver: daemonLogConfig(ctx.config).Type };
      if (!containers) return info;
      info = addWarnings(info, [
        ...containers.setAside.map((a) => `WARNING: container ${a.container} could not be loaded (${a.reason}); its record is kept in ${a.path}`),
        ...containers.unsavedRecords().map((id) => `WARNING: the state of container ${id} could not be saved to disk (no space left?); it is kept in memory and saved again when possible`),
      ]);
      const all = containers.all();
      const count = (st: string) => all.filter((c) => c.State.Status === st).length;
      return {
        ...info,
        Containers: all.length,
        ContainersRunning: count('running'),
        ContainersPaused: count('paused'),
        ContainersStopped: all.length - count('running') - count('paused'),
        LiveRestoreEnabled: liveRestore,
      };
    });
    // docker system df: each container with its sizes, and each image with the number of containers
    // made from it, running or not (dockerd's ACTIVE images).
    system.hooks.df.tapPromise('containers', async (usage) => {
      if (!containers) return usage;
      const all = containers.all();
      const layers = images.store().layers;
      const rows = await Promise.all(all.map(async (c) => {
        const rw = await layers.rwLayerSize(c.Id, c.ImageTopLayer).catch(() => 0);
        const image = images.store().find(c.Image);
        return {
          Id: c.Id, Names: [c.Name], Image: c.Config.Image, ImageID: c.Image, Command: [c.Path, ...c.Args].join(' '),
          Created: Math.floor(Date.parse(c.Created) / 1000), State: c.State.Status, Status: c.State.Status,
          SizeRw: rw, SizeRootFs: rw + (image ? images.store().size(image) : 0), Labels: c.Config.Labels ?? {}, Mounts: [],
        };
      }));
      const users = new Map<string, number>();
      for (const c of all) users.set(c.Image, (users.get(c.Image) ?? 0) + 1);
      const imageRows = (usage.Images as { Id: string }[]).map((img) => ({ ...img, Containers: users.get(img.Id) ?? 0 }));
      return { ...usage, Images: imageRows, Containers: rows };
    });
  },
});
