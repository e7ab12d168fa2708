// The container store plugin: container records on disk, their read-write layers, the jobs.
import { join } from 'node:path';
import { definePlugin } from '../../core/plugins/context.js';
import type { SystemService } from '../api-system/service.js';
import type { GraphService } from '../graph/index.js';
import type { ImagesService } from '../image-store/index.js';
import { registerContainerJobs } from './jobs.js';
import { ContainerStore } from './store.js';

/** The `containers` service (interface version 1.0.0). */
export interface ContainersService {
  serviceVersion: string;
  store(): ContainerStore;
}

export default definePlugin({
  init(ctx) {
    const images = ctx.services.get<ImagesService>('images');
    const graph = ctx.services.get<GraphService>('graph');
    const system = ctx.services.get<SystemService>('system');
    let containers: ContainerStore | undefined;
    const store = () => {
      if (!containers) throw ctx.errors.unavailable('the container store is not ready yet');
      return containers;
    };
    ctx.services.provide<ContainersService>('containers', { serviceVersion: '1.0.0', store });

    ctx.hooks.ready.tapPromise('restore-containers', async () => {
      containers = new ContainerStore(join(ctx.daemon.dataRoot, 'containers'), ctx.log);
      await containers.load();
      const s = containers;
      // An image a container was made from cannot be deleted without force.
      images.store().usageChecks.push((imageId) => s.all().find((c) => c.Image === imageId)?.Id);
    });

    registerContainerJobs(ctx, store, () => images.store(), () => graph.driver().name);

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
