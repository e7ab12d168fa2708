// Networks and sandboxes (a container's network state) on disk, one JSON file each, written
// atomically; saves of one file are queued so an older snapshot never lands after a newer one.
import { mkdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { notFound, type PluginFs } from '../../core/plugin-api.js';
import { namesIn } from '../../lib/host-cmd.js';
import type { EndpointRecord, NetworkRecord, PortBinding } from './driver.js';
import type { LinkRecord } from './container-links.js';

export interface SandboxRecord {
  containerId: string;
  /** The container's name without its slash. */
  name: string;
  hostname: string;
  /** HostConfig.NetworkMode resolved: none, host, container:<id>, or the primary network's name. */
  mode: string;
  /** Its networks, the primary (default route, published ports) first. */
  endpoints: EndpointRecord[];
  /** The namespace file while the container runs. */
  netns?: string;
  /** Published ports while it runs, host ports as taken. */
  ports?: PortBinding[];
  /** The container's folder (hosts, resolv.conf, hostname). */
  dir?: string;
  /** What its hosts file holds besides peers (--add-host), kept for the rewrites. */
  files?: { extraHosts: string[]; dns: string[]; search: string[]; options: string[]; /** Where the embedded resolver forwards. */ upstream?: string[] };
  /** Legacy links (--link child:alias) of this container, the parent (container-links.ts). */
  links?: LinkRecord[];
}

export class NetworkStore {
  readonly networks = new Map<string, NetworkRecord>();
  readonly sandboxes = new Map<string, SandboxRecord>();
  private readonly queues = new Map<string, Promise<void>>();

  constructor(private readonly root: string, private readonly fs: PluginFs) {}

  async load(): Promise<void> {
    for (const kind of ['networks', 'sandboxes'] as const) {
      await mkdir(join(this.root, kind), { recursive: true, mode: 0o700 });
      for (const f of await namesIn(join(this.root, kind))) {
        if (!f.endsWith('.json')) continue;
        const rec = JSON.parse(await readFile(join(this.root, kind, f), 'utf8'));
        if (kind === 'networks') this.networks.set(rec.Id, rec);
        else this.sandboxes.set(rec.containerId, rec);
      }
    }
  }

  /** By name, full ID or unique ID prefix, as dockerd finds networks. */
  find(ref: string): NetworkRecord | undefined {
    const all = [...this.networks.values()];
    return all.find((n) => n.Id === ref) ?? all.find((n) => n.Name === ref)
      ?? (() => { const m = all.filter((n) => n.Id.startsWith(ref)); return m.length === 1 ? m[0] : undefined; })();
  }

  get(ref: string): NetworkRecord {
    const n = this.find(ref);
    if (!n) throw notFound(`network ${ref} not found`);
    return n;
  }

  saveNetwork(n: NetworkRecord): Promise<void> {
    this.networks.set(n.Id, n);
    return this.write(join(this.root, 'networks', `${n.Id}.json`), n);
  }

  async removeNetwork(n: NetworkRecord): Promise<void> {
    this.networks.delete(n.Id);
    await this.write(join(this.root, 'networks', `${n.Id}.json`), null);
  }

  saveSandbox(s: SandboxRecord): Promise<void> {
    this.sandboxes.set(s.containerId, s);
    return this.write(join(this.root, 'sandboxes', `${s.containerId}.json`), s);
  }

  async removeSandbox(id: string): Promise<void> {
    this.sandboxes.delete(id);
    await this.write(join(this.root, 'sandboxes', `${id}.json`), null);
  }

  /** Endpoints of running containers (dockerd's active endpoints): what keeps a network from removal. */
  activeEndpointsOf(networkId: string): { sb: SandboxRecord; ep: EndpointRecord }[] {
    return this.endpointsOf(networkId).filter(({ sb }) => sb.netns || sb.mode === 'host');
  }

  /** Endpoints of a network, with their sandboxes. */
  endpointsOf(networkId: string): { sb: SandboxRecord; ep: EndpointRecord }[] {
    return [...this.sandboxes.values()].flatMap((sb) => sb.endpoints.filter((ep) => ep.networkId === networkId).map((ep) => ({ sb, ep })));
  }

  private write(path: string, value: unknown): Promise<void> {
    const data = value === null ? null : JSON.stringify(value);
    const prev = this.queues.get(path) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(() => (data === null ? unlink(path).catch(() => {}) : this.fs.writeFileAtomic(path, data)));
    this.queues.set(path, next);
    return next;
  }
}
