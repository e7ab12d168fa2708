// The jobs that look at and change a container's resources: top, stats, update.
import { setTimeout as sleep } from 'node:timers/promises';
import { conflict, type JobEvent, type PluginContext, systemError } from '../../../core/plugin-api.js';
import type { RuntimesService } from '../../exec/index.js';
import type { Container } from '../records/index.js';
import type { ContainerRuntime } from '../lifecycle/index.js';
import { runPs, type ProcessTable } from './process-table.js';
import { validateRestartPolicy } from '../lifecycle/index.js';
import { checkResources, liveResources, mergeUpdate, type UpdateRequest } from './resource-limits.js';
import { statsJSON, takeSample, type StatsSample } from './stats-view.js';
import type { ContainerStore } from '../records/index.js';

const nameProp = { name: { type: 'string', minLength: 1 } };
// dockerd's collector reads every container once a second.
const STATS_INTERVAL_MS = 1000;

export interface StatsPayload { name: string; stream: boolean; oneShot?: boolean }

export function registerResourceJobs(ctx: PluginContext, store: () => ContainerStore, runtime: () => ContainerRuntime, runtimes: RuntimesService): void {
  const e = ctx.engine;
  const driverOf = (c: Container) => runtimes.get((c.HostConfig.Runtime as string | undefined) || undefined);

  e.register<{ name: string; psArgs?: string }, ProcessTable>('container.top', {
    description: 'the processes of a running container, as the host\'s ps shows them (docker top)',
    schema: { type: 'object', required: ['name'], properties: { ...nameProp, psArgs: { type: 'string' } } },
    run: async (job) => {
      const c = store().get(job.payload.name);
      if (!c.State.Running) throw conflict(`Container ${c.Id} is not running`);
      if (c.State.Restarting) throw conflict(`Container ${c.Id} is restarting, wait until the container is running`);
      const pids = await (await driverOf(c)).pids(c.Id);
      const table = await runPs(job.payload.psArgs || '-ef', pids);
      job.emit(runtime().event(c, 'top'));
      return table;
    },
  });

  e.register<StatsPayload, void>('container.stats', {
    description: 'resource usage of a container: one JSON object, or one a second while streaming (docker stats)',
    schema: { type: 'object', required: ['name', 'stream'], properties: { ...nameProp, stream: { type: 'boolean' }, oneShot: { type: 'boolean' } } },
    run: async (job) => {
      const id = store().get(job.payload.name).Id;
      const driver = await driverOf(store().get(id));
      const write = (c: Container, cur: StatsSample | undefined, pre: StatsSample | undefined) => job.stdout.write(`${JSON.stringify(statsJSON(c, cur, pre))}\n`);
      // A stopped container reads as zeroes (name and id only), as dockerd sends it.
      const sample = async (c: Container) => (c.State.Running ? takeSample(driver, c) : undefined);
      const pause = () => sleep(STATS_INTERVAL_MS, undefined, { signal: job.signal }).then(() => true, () => false);
      if (!job.payload.stream) {
        const c = store().get(id);
        const first = await sample(c);
        if (!first || job.payload.oneShot) return void write(c, first, undefined);
        // precpu from a reading a second earlier, so the client can work out a CPU percentage.
        if (!(await pause())) return;
        const now = store().find(id) ?? c;
        const second = await sample(now);
        return void write(now, second, second ? first : undefined);
      }
      job.begin();
      let pre: StatsSample | undefined;
      // Until the client leaves (job.signal) or the container is removed; a stopped one streams zeroes.
      for (let c = store().find(id); c && !job.signal.aborted; c = store().find(id)) {
        const cur = await sample(c);
        write(c, cur, cur ? pre : undefined);
        pre = cur;
        if (!(await pause())) break;
      }
    },
  });

  e.register<{ name: string; config: UpdateRequest }, { Warnings: string[] }>('container.update', {
    description: 'changes a container\'s resource limits and restart policy, live when it runs (docker update)',
    schema: { type: 'object', required: ['name'], properties: { ...nameProp, config: { type: 'object' } } },
    run: async (job) => {
      const req = job.payload.config ?? {};
      checkResources(req, { update: true });
      if (req.RestartPolicy) validateRestartPolicy({ RestartPolicy: { Name: req.RestartPolicy.Name ?? '', MaximumRetryCount: req.RestartPolicy.MaximumRetryCount ?? 0 } });
      return runtime().locks.run(store().get(job.payload.name).Id, () => update(job, req));
    },
  });

  const update = async (job: { payload: { name: string }; emit: (ev: JobEvent) => void }, req: UpdateRequest): Promise<{ Warnings: string[] }> => {
    const c = store().get(job.payload.name);
    if (c.State.Status === 'removing' || c.State.Dead || runtime().locks.isRemoving(c.Id)) throw conflict(`Cannot update container ${c.Id}: container is marked for removal and cannot be "update"`);
    const next = mergeUpdate(c.Id, c.HostConfig, req);
    // Live first: a refusal by the kernel leaves the record as it was.
    if (c.State.Running && !c.State.Restarting) {
      const live = liveResources(next, req);
      if (Object.keys(live).length) {
        await (await driverOf(c)).update(c.Id, live).catch((err) => {
          throw systemError(`Cannot update container ${c.Id}: ${(err as Error).message}`, err);
        });
      }
    }
    const before = c.HostConfig;
    c.HostConfig = next;
    try {
      await store().save(c);
    } catch (err) {
      c.HostConfig = before;
      throw err;
    }
    job.emit(runtime().event(c, 'update'));
    return { Warnings: [] };
  };
}
