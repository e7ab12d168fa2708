// The container jobs, decorated: create checks and records the container's networks; inspect
// and ps show its NetworkSettings and ports. The container store knows nothing of networks.
import type { PluginContext } from '../../core/plugins/context.js';
import type { NetworkStore } from './network-store.js';
import { portBindingsOf } from './ports.js';
import type { ContainerLike, EndpointSettings, Sandboxes } from './sandboxes.js';

type CreateBody = ContainerLike['Config'] & { Image?: string; HostConfig?: Record<string, unknown>; NetworkingConfig?: { EndpointsConfig?: Record<string, EndpointSettings> | null } | null };

export function wrapContainerJobs(ctx: PluginContext, store: NetworkStore, sandboxes: Sandboxes): void {
  const e = ctx.engine;
  e.wrap('container.create', (previous) => ({
    ...previous,
    run: async (job) => {
      const body = (job.payload as { config?: CreateBody })?.config;
      const probe = (id: string, name: string): ContainerLike => ({ Id: id, Name: name, Config: body ?? {}, HostConfig: body?.HostConfig ?? {} });
      const endpoints = body?.NetworkingConfig?.EndpointsConfig ?? {};
      if (body?.Image) {
        // Refused before anything is created: an unknown network, a bad port, an alias on the default bridge.
        portBindingsOf(probe('', ''));
        await sandboxes.created(probe('', ''), endpoints, true);
      }
      const out = (await previous.run(job)) as { Id: string };
      const { Name } = (await ctx.engine.run('container.inspect', { name: out.Id })) as { Name: string };
      await sandboxes.created(probe(out.Id, Name), endpoints);
      return out;
    },
  }));

  // The container's addresses are released before the job answers: a `network rm` right after
  // (docker-compose down) finds no endpoint left.
  e.wrap('container.delete', (previous) => ({
    ...previous,
    run: async (job) => {
      const sb = sandboxes.findSandbox((job.payload as { name: string }).name);
      const out = await previous.run(job);
      if (sb) await sandboxes.removed(sb.containerId);
      return out;
    },
  }));

  e.wrap('container.prune', (previous) => ({
    ...previous,
    run: async (job) => {
      const out = (await previous.run(job)) as { ContainersDeleted: string[] | null };
      for (const id of out.ContainersDeleted ?? []) await sandboxes.removed(id);
      return out;
    },
  }));

  // A removal outside a job (docker run --rm) is published through this job.
  e.wrap('container.event', (previous) => ({
    ...previous,
    run: async (job) => {
      const out = await previous.run(job);
      const ev = job.payload as { Type?: string; Action?: string; Actor?: { ID: string } };
      if (ev?.Type === 'container' && ev.Action === 'destroy' && ev.Actor) await sandboxes.removed(ev.Actor.ID);
      return out;
    },
  }));

  // Peers know a renamed container by its new name at once.
  e.wrap('container.rename', (previous) => ({
    ...previous,
    run: async (job) => {
      const { name, newName } = job.payload as { name: string; newName: string };
      const sb = sandboxes.findSandbox(name);
      const out = await previous.run(job);
      if (sb) {
        sb.name = newName.replace(/^\//, '');
        await store.saveSandbox(sb);
        await sandboxes.refreshHosts();
      }
      return out;
    },
  }));

  e.wrap('container.inspect', (previous) => ({
    ...previous,
    run: async (job) => {
      const c = (await previous.run(job)) as Record<string, unknown> & { Id: string; Name: string };
      const sb = store.sandboxes.get(c.Id);
      if (!sb) return c;
      if (sb.name !== c.Name.replace(/^\//, '')) sb.name = c.Name.replace(/^\//, '');
      const files = sb.dir ? { HostsPath: `${sb.dir}/hosts`, ResolvConfPath: `${sb.dir}/resolv.conf`, HostnamePath: `${sb.dir}/hostname` } : {};
      return { ...c, ...files, NetworkSettings: sandboxes.view(c.Id) };
    },
  }));

  e.wrap('container.list', (previous) => ({
    ...previous,
    run: async (job) => {
      const list = (await previous.run(job)) as (Record<string, unknown> & { Id: string })[];
      const f = (job.payload as { filters?: Record<string, string[]> })?.filters ?? {};
      // ps --filter network=NAME|ID and publish=PORT[/PROTO]: what only the network plugin knows.
      const kept = list.filter((c) => {
        const sb = store.sandboxes.get(c.Id);
        const nets = (sb?.endpoints ?? []).map((ep) => store.networks.get(ep.networkId)).filter((n) => n !== undefined);
        if (f.network?.length && !f.network.some((x) => nets.some((n) => n.Name === x || n.Id.startsWith(x)))) return false;
        const published = (sb?.netns ? sb.ports ?? [] : []).map((b) => `${b.containerPort}/${b.proto}`);
        if (f.publish?.length && !f.publish.some((x) => published.includes(x.includes('/') ? x : `${x}/tcp`))) return false;
        return true;
      });
      return kept.map((c) => {
        const v = sandboxes.view(c.Id) as { Networks: Record<string, unknown>; Ports: Record<string, { HostIp: string; HostPort: string }[] | null> } | undefined;
        if (!v) return c;
        const ports = Object.entries(v.Ports).flatMap(([key, list]) => (list ?? []).map((b) => ({
          IP: b.HostIp, PrivatePort: Number(key.split('/')[0]), PublicPort: Number(b.HostPort), Type: key.split('/')[1],
        })));
        return { ...c, Ports: ports, NetworkSettings: { Networks: v.Networks } };
      });
    },
  }));
}
