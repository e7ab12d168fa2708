// The network jobs (docker network create/ls/inspect/rm/prune/connect/disconnect).
import type { PluginContext } from '../../core/plugin-api.js';
import type { CreateRequest, NetworkController } from './controller.js';
import type { NetworkRecord } from './driver.js';
import type { EndpointSettings, Sandboxes } from './sandboxes.js';
import { createSchema } from './create-schema.js';

export const NETWORK_LIST_FILTERS = ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'] as const;

const nameSchema = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 } } };
/** Filters as the API server parses them: each key a list of values. */
const filtersSchema = { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } };

function labelsMatch(labels: Record<string, string>, wanted: string[]): boolean {
  return wanted.every((x) => (x.includes('=') ? labels[x.slice(0, x.indexOf('='))] === x.slice(x.indexOf('=') + 1) : x in labels));
}

export function registerNetworkJobs(ctx: PluginContext, ctl: NetworkController, sandboxes: Sandboxes): void {
  const e = ctx.engine;
  const store = ctl.store;
  const event = (n: NetworkRecord, action: string, extra: Record<string, string> = {}) => ({
    Type: 'network', Action: action, Actor: { ID: n.Id, Attributes: { name: n.Name, type: n.Driver, ...extra } },
  });
  const view = (n: NetworkRecord, withContainers: boolean) => {
    const { ipam: _ipam, ipam6: _ipam6, predefined: _p, ...shown } = n;
    const containers: Record<string, unknown> = {};
    if (withContainers) {
      for (const { sb, ep } of store.endpointsOf(n.Id)) {
        if (!sb.netns && sb.mode !== 'host') continue;
        containers[sb.containerId] = { Name: sb.name, EndpointID: ep.id, MacAddress: ep.mac ?? '', IPv4Address: ep.ip ? `${ep.ip}/${ep.prefixLen}` : '', IPv6Address: ep.ip6 ? `${ep.ip6}/${ep.prefixLen6}` : '' };
      }
    }
    return { ...shown, Containers: containers };
  };

  e.register<{ filters?: Record<string, string[]> }, unknown[]>('network.list', {
    description: 'lists networks (docker network ls)',
    schema: { type: 'object', properties: { filters: filtersSchema } },
    run: (job) => {
      const f = job.payload?.filters ?? {};
      const list = [...store.networks.values()].filter((n) =>
        (!f.name || f.name.some((x) => n.Name.includes(x)))
        && (!f.id || f.id.some((x) => n.Id.startsWith(x)))
        && (!f.driver || f.driver.includes(n.Driver))
        && (!f.type || f.type.some((t) => (t === 'builtin') === Boolean(n.predefined)))
        && (!f.dangling || f.dangling.some((d) => (d === 'true' || d === '1') === (!n.predefined && store.activeEndpointsOf(n.Id).length === 0)))
        && labelsMatch(n.Labels, f.label ?? []));
      return list.sort((a, b) => a.Created.localeCompare(b.Created)).map((n) => view(n, false));
    },
  });

  e.register<{ name: string }, unknown>('network.inspect', {
    description: 'a network in detail (docker network inspect)',
    schema: nameSchema,
    run: (job) => view(store.get(job.payload.name), true),
  });

  e.register<{ config: CreateRequest }, { Id: string; Warning: string }>('network.create', {
    description: 'creates a network (docker network create)',
    schema: createSchema,
    run: async (job) => {
      const net = await ctl.create(job.payload.config ?? ({} as CreateRequest));
      job.emit(event(net, 'create'));
      return { Id: net.Id, Warning: '' };
    },
  });

  e.register<{ name: string }, void>('network.delete', {
    description: 'removes a network (docker network rm)',
    schema: nameSchema,
    run: async (job) => {
      const net = store.get(job.payload.name);
      await ctl.remove(net);
      job.emit(event(net, 'destroy'));
    },
  });

  e.register<{ filters?: Record<string, string[]> }, { NetworksDeleted: string[] | null }>('network.prune', {
    description: 'removes networks no container uses (docker network prune)',
    schema: { type: 'object', properties: { filters: filtersSchema } },
    run: async (job) => {
      const deleted: string[] = [];
      for (const n of [...store.networks.values()]) {
        // As dockerd: config-only networks are not pruned.
        if (n.predefined || n.ConfigOnly || store.activeEndpointsOf(n.Id).length || !labelsMatch(n.Labels, job.payload?.filters?.label ?? [])) continue;
        await ctl.remove(n);
        job.emit(event(n, 'destroy'));
        deleted.push(n.Name);
      }
      return { NetworksDeleted: deleted.length ? deleted : null };
    },
  });

  const connectSchema = { type: 'object', required: ['name', 'container'], properties: { name: { type: 'string' }, container: { type: 'string', minLength: 1 } } };
  e.register<{ name: string; container: string; endpoint?: EndpointSettings }, void>('network.connect', {
    description: 'connects a container to a network (docker network connect)',
    schema: connectSchema,
    run: async (job) => {
      const net = store.get(job.payload.name);
      await sandboxes.connect(job.payload.container, net, job.payload.endpoint ?? {});
      job.emit(event(net, 'connect', { container: resolveId(job.payload.container) }));
    },
  });

  e.register<{ name: string; container: string; force?: boolean }, void>('network.disconnect', {
    description: 'disconnects a container from a network (docker network disconnect)',
    schema: connectSchema,
    run: async (job) => {
      const net = store.get(job.payload.name);
      const id = resolveId(job.payload.container);
      await sandboxes.disconnect(job.payload.container, net);
      job.emit(event(net, 'disconnect', { container: id }));
    },
  });

  function resolveId(ref: string): string {
    const all = [...store.sandboxes.values()];
    return (store.sandboxes.get(ref) ?? all.find((s) => s.name === ref.replace(/^\//, '')) ?? all.find((s) => s.containerId.startsWith(ref)))?.containerId ?? ref;
  }
}
