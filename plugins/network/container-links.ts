// Legacy links (docker run --link name:alias) on the default bridge, as dockerd keeps them: each
// link is recorded with the parent's sandbox (by the child's ID, so a rename keeps it); at start
// the parent gets the child's ALIAS_NAME, ALIAS_PORT_*, ALIAS_ENV_* variables and a hosts entry
// (alias, hostname, name); inspect shows HostConfig.Links as "/child:/parent/alias";
// DELETE /containers/{parent}/{alias}?link=1 removes one (docker rm --link).
import { invalid, notFound, type PluginContext, systemError } from '../../core/plugin-api.js';
import type { Container, ContainersService, CreateRequest } from '../container-store/index.js';
import type { NetworkStore } from './network-store.js';

export interface LinkRecord { childId: string; alias: string }

/** "name:alias" or "name" (the alias is then the name), a leading "/" dropped (opts.ParseLink). */
export function parseLink(spec: string): { name: string; alias: string } {
  const [rawName = '', alias] = spec.split(':', 2);
  const name = rawName.replace(/^\//, '');
  if (!name) throw invalid(`bad format for links: ${spec}`);
  return { name, alias: (alias ?? name).replace(/^\//, '') };
}

/** Links apply unless the container is on a user-defined network (the CLI then sends them as the
 * endpoint's links, which are aliases there). */
export function linksApply(body: { HostConfig?: Record<string, unknown> }, store: NetworkStore): boolean {
  const mode = (body.HostConfig?.NetworkMode as string | undefined) || 'default';
  if (['default', 'bridge', 'host', 'none'].includes(mode) || mode.startsWith('container:')) return true;
  return [...store.networks.values()].some((n) => n.predefined && (n.Name === mode || n.Id === mode));
}

/** The child each link names, checked as dockerd's registerLinks checks it. */
export function resolveLinks(containers: ContainersService, specs: string[]): LinkRecord[] {
  return specs.map((spec) => {
    const { name, alias } = parseLink(spec);
    let child = containers.store().find(name);
    if (!child) throw invalid(`could not get container for ${name}: No such container: ${name}`);
    for (let hops = 0; child.HostConfig.NetworkMode?.startsWith('container:') && hops < 16; hops++) {
      const ref: string = child.HostConfig.NetworkMode.slice('container:'.length);
      child = containers.store().find(ref);
      if (!child) throw invalid(`Could not get container for ${ref}`);
    }
    if (child.HostConfig.NetworkMode === 'host') {
      throw invalid("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
    }
    return { childId: child.Id, alias };
  });
}

/** moby daemon/links ToEnv: the variables a link gives the parent, TCP ports first. */
export function linkEnv(linkName: string, childIp: string, childEnv: string[], exposed: string[]): string[] {
  const alias = linkName.slice(linkName.lastIndexOf('/') + 1).toUpperCase().replaceAll('-', '_');
  const ports = exposed.map((k) => {
    const [n, proto = 'tcp'] = k.split('/');
    return { num: Number(n), proto: proto.toLowerCase() };
  }).filter((p) => Number.isInteger(p.num)).sort((a, b) => {
    if (a.proto === b.proto) return a.num - b.num;
    if (a.proto === 'tcp') return -1;
    if (b.proto === 'tcp') return 1;
    return a.proto < b.proto ? -1 : 1;
  });
  const env: string[] = [];
  let start = ports[0];
  let end = ports[0];
  ports.forEach((p, i) => {
    if (i === 0) env.push(`${alias}_PORT=${p.proto}://${childIp}:${p.num}`);
    const prefix = `${alias}_PORT_${p.num}_${p.proto.toUpperCase()}`;
    env.push(`${prefix}=${p.proto}://${childIp}:${p.num}`, `${prefix}_ADDR=${childIp}`, `${prefix}_PORT=${p.num}`, `${prefix}_PROTO=${p.proto}`);
    if (p.num === end.num + 1 && p.proto === end.proto) {
      end = p;
      if (i < ports.length - 1) return;
    }
    if (end !== start) {
      const range = `${alias}_PORT_${start.num}_${start.proto.toUpperCase()}`;
      env.push(
        `${range}_START=${start.proto}://${childIp}:${start.num}`, `${range}_PORT_START=${start.num}`,
        `${range}_END=${end.proto}://${childIp}:${end.num}`, `${range}_PORT_END=${end.num}`,
      );
    }
    start = p;
    end = p;
  });
  env.push(`${alias}_NAME=${linkName}`);
  for (const v of childEnv) {
    const eq = v.indexOf('=');
    if (eq < 0) continue;
    const key = v.slice(0, eq);
    if (key === 'HOME' || key === 'PATH') continue;
    env.push(`${alias}_ENV_${key}=${v.slice(eq + 1)}`);
  }
  return env;
}

export interface StartLinks {
  /** Variables for the parent's process. */
  env: string[];
  /** Hosts entries as --add-host takes them: "alias hostname [name]:ip". */
  hosts: string[];
}

/** At the parent's start: every child must run, on the default bridge (setupLinkedContainers). */
export function startLinks(containers: ContainersService, store: NetworkStore, parent: Container, links: LinkRecord[]): StartLinks {
  const out: StartLinks = { env: [], hosts: [] };
  const onBridge = (containerId: string) => store.sandboxes.get(containerId)?.endpoints.find((e) => {
    const net = store.networks.get(e.networkId);
    return net?.predefined && net.Driver === 'bridge';
  });
  // A parent off the default bridge (none, host, container:X) gets nothing from its links.
  if (!links.length || !onBridge(parent.Id)) return out;
  for (const link of links) {
    const child = containers.store().find(link.childId);
    if (!child) continue; // removed since: its links went with it
    const linkName = `${parent.Name}/${link.alias}`;
    if (!child.State.Running) throw systemError(`Cannot link to a non running container: ${child.Name} AS ${linkName}`);
    const ep = onBridge(child.Id);
    if (!ep?.ip) throw systemError(`container ${child.Id} not attached to default bridge network`);
    out.env.push(...linkEnv(linkName, ep.ip, child.Config.Env ?? [], Object.keys(child.Config.ExposedPorts ?? {})));
    const childName = child.Name.slice(1);
    const names = [link.alias, child.Config.Hostname || child.Id.slice(0, 12), ...(link.alias !== childName ? [childName] : [])];
    out.hosts.push(`${names.join(' ')}:${ep.ip}`);
  }
  return out;
}

/** docker rm --link /parent/alias: the link goes from the parent's record. */
export function findLink(containers: ContainersService, store: NetworkStore, linkName: string): { parentId: string; index: number } {
  const name = linkName.startsWith('/') ? linkName : `/${linkName}`;
  const slash = name.lastIndexOf('/');
  const parentName = name.slice(0, slash);
  if (parentName === '') throw systemError('Conflict, cannot remove the default link name of the container');
  const parent = containers.store().find(parentName);
  const links = parent ? store.sandboxes.get(parent.Id)?.links ?? [] : [];
  const index = links.findIndex((l) => l.alias === name.slice(slash + 1));
  // dockerd looks the link up as a container name first: an unknown one is "No such container".
  if (!parent || index < 0) throw notFound(`No such container: ${linkName.replace(/^\//, '')}`);
  return { parentId: parent.Id, index };
}

export const hasLinks = (body: CreateRequest) => ((body.HostConfig?.Links as string[] | null | undefined) ?? []).length > 0;

/** The job behind DELETE /containers/{parent}/{alias}?link=1. */
export function registerLinkJobs(ctx: PluginContext, containers: ContainersService, store: NetworkStore, refreshHosts: () => Promise<void>): void {
  ctx.engine.register<{ name: string }, void>('network.unlink', {
    description: 'removes a legacy link from its parent container (docker rm --link parent/alias)',
    schema: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 } } },
    run: async (job) => {
      const { parentId, index } = findLink(containers, store, job.payload.name);
      const sb = store.sandboxes.get(parentId)!;
      const [removed] = sb.links!.splice(index, 1);
      // A running parent's hosts file loses the entry at once (dockerd's updateNetwork).
      if (sb.files) sb.files.extraHosts = sb.files.extraHosts.filter((h) => !h.startsWith(`${removed.alias} `));
      await store.saveSandbox(sb);
      if (sb.netns) await refreshHosts();
    },
  });
}
