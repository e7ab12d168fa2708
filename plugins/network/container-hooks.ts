// The network plugin's part in containers' lives, through the containers service's hooks: create
// checks and records a container's networks, a start gets its namespace and files, inspect and ps
// show its NetworkSettings and ports. The container store knows nothing of networks.
import type { ContainersService, CreateRequest } from '../container-store/index.js';
import { hasLinks, linksApply, resolveLinks, startLinks } from './container-links.js';
import type { NetworkStore } from './network-store.js';
import { ensureContainerFiles } from './container-files.js';
import { portBindingsOf } from './ports.js';
import { parsePortFilter } from '../../lib/port-filter.js';
import type { ContainerLike, EndpointSettings, Sandboxes } from './sandboxes.js';

const endpointsOf = (body: CreateRequest) => (body.NetworkingConfig?.EndpointsConfig ?? {}) as Record<string, EndpointSettings>;
const probe = (body: CreateRequest): ContainerLike => ({ Id: '', Name: '', Config: body as ContainerLike['Config'], HostConfig: body.HostConfig ?? {} });
const nameOf = (c: { Name: string }) => c.Name.replace(/^\//, '');

export function tapContainerHooks(containers: ContainersService, store: NetworkStore, sandboxes: Sandboxes): void {
  const hooks = containers.hooks;
  const linksOf = (body: CreateRequest) => (hasLinks(body) && linksApply(body, store) ? resolveLinks(containers, body.HostConfig!.Links as string[]) : []);
  // Refused before anything is created: an unknown network, a bad port, an alias on the default bridge.
  hooks.creating.tapPromise('networks', async (body) => {
    portBindingsOf(probe(body));
    await sandboxes.created(probe(body), endpointsOf(body), true);
    linksOf(body);
  });
  hooks.created.tapPromise('networks', async (c, body) => {
    await sandboxes.created(c, endpointsOf(body));
    const links = linksOf(body);
    const sb = store.sandboxes.get(c.Id);
    if (links.length && sb) {
      sb.links = links;
      await store.saveSandbox(sb);
    }
  });
  // The namespace to join, and the container's /etc/resolv.conf and /etc/hosts (kept by this
  // plugin in the container's folder, rewritten live as peers come and go).
  hooks.starting.tapPromise('networks', async ({ container, dir, spec }) => {
    // Every linked container must run: refused before anything is set up.
    const links = startLinks(containers, store, container, store.sandboxes.get(container.Id)?.links ?? []);
    Object.assign(spec, await sandboxes.prepare(container, dir));
    if (links.env.length) {
      // The user's own variables win over a link's (dockerd puts Config.Env last).
      const keys = new Set(spec.process.env.map((e) => e.slice(0, e.indexOf('='))));
      spec.process.env.push(...links.env.filter((e) => !keys.has(e.slice(0, e.indexOf('=')))));
    }
    const sb = store.sandboxes.get(container.Id);
    if (links.hosts.length && sb?.files) {
      sb.files.extraHosts = [...sb.files.extraHosts, ...links.hosts];
      await store.saveSandbox(sb);
      await sandboxes.refreshHosts();
    }
    const files = await ensureContainerFiles(dir, spec.hostname);
    const readonly = Boolean(container.HostConfig.ReadonlyRootfs);
    spec.mounts.unshift(
      { destination: '/etc/resolv.conf', type: 'bind', source: files.resolvConf, readonly },
      { destination: '/etc/hosts', type: 'bind', source: files.hosts, readonly },
    );
  });
  hooks.stopped.tapPromise('networks', (c) => sandboxes.release(c.Id));
  // The addresses are released before rm answers: a `network rm` right after (docker-compose
  // down) finds no endpoint left.
  hooks.removed.tapPromise('networks', async (c) => {
    await sandboxes.removed(c.Id);
    // Its parents' links to it go with it (dockerd's linkIndex).
    for (const sb of store.sandboxes.values()) {
      if (!sb.links?.some((l) => l.childId === c.Id)) continue;
      sb.links = sb.links.filter((l) => l.childId !== c.Id);
      await store.saveSandbox(sb);
    }
  });
  // Peers know a renamed container by its new name at once.
  hooks.renamed.tapPromise('networks', async (c) => {
    const sb = store.sandboxes.get(c.Id);
    if (!sb) return;
    sb.name = nameOf(c);
    await store.saveSandbox(sb);
    await sandboxes.refreshHosts();
  });

  hooks.inspect.tap('networks', (view, c) => {
    const sb = store.sandboxes.get(c.Id);
    if (!sb) return view;
    const files = sb.dir ? { HostsPath: `${sb.dir}/hosts`, ResolvConfPath: `${sb.dir}/resolv.conf`, HostnamePath: `${sb.dir}/hostname` } : {};
    // HostConfig.Links as dockerd shows them: "/child:/parent/alias", children by their current name.
    const links = (sb.links ?? []).flatMap((l) => {
      const child = containers.store().find(l.childId);
      return child ? [`${child.Name}:${c.Name}/${l.alias}`] : [];
    });
    const hostConfig = sb.links ? { HostConfig: { ...(view.HostConfig as Record<string, unknown>), Links: links.length ? links : null } } : {};
    return { ...view, ...files, ...hostConfig, NetworkSettings: sandboxes.view(c.Id) };
  });

  // ps --filter network=NAME|ID and publish=PORT[/PROTO]: what only the network plugin knows.
  hooks.listFilter.tap('networks', (c, f) => {
    if (!f.network?.length && !f.publish?.length) return undefined;
    const sb = store.sandboxes.get(c.Id);
    const nets = (sb?.endpoints ?? []).map((ep) => store.networks.get(ep.networkId)).filter((n) => n !== undefined);
    if (f.network?.length && !f.network.some((x) => nets.some((n) => n.Name === x || n.Id.startsWith(x)))) return false;
    if (f.publish?.length) {
      // A running container's published ports, by the host port (dockerd) or the container's.
      const wanted = parsePortFilter('publish', f.publish);
      const published = (sb?.netns ? sb.ports ?? [] : []).flatMap((b) => [`${b.hostPort}/${b.proto}`, `${b.containerPort}/${b.proto}`]);
      if (!published.some((p) => wanted.has(p))) return false;
    }
    return undefined;
  });
  hooks.summary.tap('networks', (row, c) => {
    const v = sandboxes.view(c.Id) as { Networks: Record<string, unknown>; Ports: Record<string, { HostIp: string; HostPort: string }[] | null> } | undefined;
    if (!v) return row;
    const ports = Object.entries(v.Ports).flatMap(([key, list]) => (list ?? []).map((b) => ({
      IP: b.HostIp, PrivatePort: Number(key.split('/')[0]), PublicPort: Number(b.HostPort), Type: key.split('/')[1],
    })));
    return { ...row, Ports: ports, NetworkSettings: { Networks: v.Networks } };
  });
}
