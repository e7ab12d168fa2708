// Terminal jobs: the size of a container's or an exec's terminal (docker run -it, exec -it,
// attach send it at start and on every SIGWINCH).
import { conflict, type PluginContext, systemError } from '../../../core/plugin-api.js';
import type { RuntimesService } from '../../exec/index.js';
import type { Execs } from '../exec/index.js';
import type { ContainerRuntime } from './lifecycle.js';
import type { ContainerStore } from '../records/index.js';

export interface ResizePayload { height: number; width: number }

const size = { height: { type: 'integer', minimum: 0, maximum: 65535 }, width: { type: 'integer', minimum: 0, maximum: 65535 } };

export function registerTtyJobs(ctx: PluginContext, store: () => ContainerStore, runtime: () => ContainerRuntime, runtimes: RuntimesService, execs: Execs): void {
  ctx.engine.register<ResizePayload & { name: string }, void>('container.resize', {
    description: 'sets the size of a container\'s terminal (docker run -it, docker attach)',
    schema: { type: 'object', required: ['name', 'height', 'width'], properties: { name: { type: 'string', minLength: 1 }, ...size } },
    run: async (job) => {
      const { height, width } = job.payload;
      const c = store().get(job.payload.name);
      if (!c.State.Running) throw conflict(`Container ${c.Id} is not running`);
      const driver = await runtimes.get((c.HostConfig.Runtime as string | undefined) || undefined);
      if (!driver.resize) throw systemError(`runtime ${driver.name} cannot resize a terminal`);
      await driver.resize(c.Id, undefined, height, width);
      job.emit(runtime().event(c, 'resize', { height: String(height), width: String(width) }));
    },
  });
  ctx.engine.register<ResizePayload & { id: string }, void>('exec.resize', {
    description: 'sets the size of an exec\'s terminal (docker exec -it)',
    schema: { type: 'object', required: ['id', 'height', 'width'], properties: { id: { type: 'string', minLength: 1 }, ...size } },
    run: (job) => execs.resize(job.payload.id, job.payload.height, job.payload.width),
  });
}
