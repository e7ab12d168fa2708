// The container store plugin: container records on disk, their read-write layers, the jobs.
import { join } from 'node:path';
import type { JobEvent } from '../../core/job.js';
import { definePlugin } from '../../core/plugins/context.js';
import type { SystemService } from '../api-system/service.js';
import type { GraphService } from '../graph/index.js';
import type { ImagesService } from '../image-store/index.js';
import type { RuntimesService } from '../exec/index.js';
import { Execs, registerExecJobs } from './exec.js';
import { registerContainerJobs } from './jobs.js';
import { ContainerRuntime } from './lifecycle.js';
import { registerResourceJobs } from './resource-jobs.js';
import { registerRunJobs } from './run-jobs.js';
import { ContainerStore } from './store.js';

/** The `containers` service (interface version 1.0.0). */
export interface ContainersService {
  serviceVersion: string;
  store(): ContainerStore;
  runtime(): ContainerRuntime;
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
      run: (job) => job.emit(job.payload),
    });
    const lifecycle = new ContainerRuntime(store, runtimes, graph, ctx.log, publish, async (c) => {
      await images.store().layers.removeRwLayer(c.Id).catch(() => {});
      await store().remove(c);
      publish(lifecycle.event(c, 'destroy'));
    });
    ctx.services.provide<ContainersService>('containers', { serviceVersion: '1.0.0', store, runtime: () => lifecycle });

    ctx.hooks.ready.tapPromise('restore-containers', async () => {
      containers = new ContainerStore(join(ctx.daemon.dataRoot, 'containers'), ctx.log);
      await containers.load();
      const s = containers;
      // An image a container was made from cannot be deleted without force.
      images.store().usageChecks.push((imageId) => s.all().find((c) => c.Image === imageId)?.Id);
      // Reconcile with the runtime: a container still running is watched again (its monitor
      // outlived the daemon); one that exited meanwhile gets its exit recorded.
      for (const c of s.all().filter((x) => x.State.Running)) {
        try {
          const driver = await runtimes.get((c.HostConfig.Runtime as string | undefined) || undefined);
          const state = await driver.state(c.Id).catch(() => ({ status: 'stopped' as const, pid: 0 }));
          if (state.status === 'running' || state.status === 'paused') await graph.driver().get(c.Id);
          lifecycle.watchExit(c, driver);
        } catch (err) {
          ctx.log.warn({ err, container: c.Id }, 'cannot reconcile container with its runtime');
        }
      }
    });

    registerContainerJobs(ctx, store, () => images.store(), () => graph.driver().name, () => lifecycle);
    registerRunJobs(ctx, store, () => lifecycle, runtimes);
    registerResourceJobs(ctx, store, () => lifecycle, runtimes);
    registerExecJobs(ctx, new Execs(store, () => lifecycle, runtimes, graph));

    system.hooks.info.tap('containers', (info) => {
      if (!containers) return info;
      const all = containers.all();
      const count = (st: string) => all.filter((c) => c.State.Status === st).length;
      return {
        ...info,
        Containers: all.length,
        ContainersRunning: count('running'),
        ContainersPaused: count('paused'),
        ContainersStopped: all.length - count('running') - count('paused'),
      };
    });
    system.hooks.df.tap('containers', (usage) => {
      if (!containers) return usage;
      return {
        ...usage,
        Containers: containers.all().map((c) => ({ Id: c.Id, Names: [c.Name], Image: c.Config.Image, ImageID: c.Image, Command: [c.Path, ...c.Args].join(' '), Created: Math.floor(Date.parse(c.Created) / 1000), State: c.State.Status, Status: c.State.Status, SizeRw: 0, SizeRootFs: 0, Labels: c.Config.Labels ?? {}, Mounts: [] })),
      };
    });
  },
});
