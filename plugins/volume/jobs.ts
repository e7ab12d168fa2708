// The volume jobs (docker volume ls / create / inspect / rm / prune); the routes are api-volumes'.
import type { PluginContext } from '../../core/plugin-api.js';
import type { CreateVolumeRequest, Volumes } from './service.js';

const filtersSchema = { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } };
const stringMap = { type: ['object', 'null'], additionalProperties: { type: 'string' } };

export function registerVolumeJobs(ctx: PluginContext, volumes: Volumes): void {
  const e = ctx.engine;
  e.register<{ filters?: Record<string, string[]> }, unknown>('volume.list', {
    description: 'lists volumes (docker volume ls)',
    schema: { type: 'object', properties: { filters: filtersSchema } },
    run: (job) => volumes.list(job.payload?.filters ?? {}),
  });
  e.register<{ config: CreateVolumeRequest }, unknown>('volume.create', {
    description: 'creates a volume, or returns the one of that name (docker volume create)',
    schema: {
      type: 'object', required: ['config'],
      properties: { config: { type: 'object', properties: { Name: { type: 'string' }, Driver: { type: 'string' }, DriverOpts: stringMap, Labels: stringMap } } },
    },
    run: async (job) => volumes.view((await volumes.create(job.payload.config)).record),
  });
  e.register<{ name: string }, unknown>('volume.inspect', {
    description: 'a volume in detail (docker volume inspect)',
    schema: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 } } },
    run: (job) => volumes.get(job.payload.name),
  });
  e.register<{ name: string; force?: boolean }, void>('volume.delete', {
    description: 'removes a volume that no container uses (docker volume rm)',
    schema: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 }, force: { type: 'boolean' } } },
    run: (job) => volumes.remove(job.payload.name, Boolean(job.payload.force)),
  });
  e.register<{ filters?: Record<string, string[]>; all?: boolean }, unknown>('volume.prune', {
    description: 'removes unused volumes: anonymous ones, or all with all=true (docker volume prune)',
    schema: { type: 'object', properties: { filters: filtersSchema, all: { type: 'boolean' } } },
    run: async (job) => {
      const out = await volumes.prune(job.payload?.filters ?? {}, Boolean(job.payload?.all));
      job.emit({ Type: 'volume', Action: 'prune', Actor: { ID: '', Attributes: { reclaimed: String(out.SpaceReclaimed) } } });
      return out;
    },
  });
}
