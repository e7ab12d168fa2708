// Networks and sandboxes (a container's network state) on disk, one JSON file each, written
// atomically; saves of one file are queued so an older snapshot never lands after a newer one.
// A record is in memory only once it is on disk: a failed save leaves memory as it was (a record
// changed in place is put back to what was last written).
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
  /** file → the text last written (or read at start): what a failed save puts back. */
  private readonly accepted = new Map<string, string>();

  constructor(private readonly root: string, private readonly fs: PluginFs) {}

  async load(): Promise<void> {
    for (const kind of ['networks', 'sandboxes'] as const) {
      await mkdir(join(this.root, kind), { recursive: true, mode: 0o700 });
      for (const f of await namesIn(join(this.root, kind))) {
        if (!f.endsWith('.json')) continue;
        const text = await readFile(join(this.root, kind, f), 'utf8');
        const rec = JSON.parse(text);
        this.accepted.set(join(this.root, kind, f), text);
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

  async saveNetwork(n: NetworkRecord): Promise<void> {
    await this.save(join(this.root, 'networks', `${n.Id}.json`), n, this.networks, n.Id);
  }

  async removeNetwork(n: NetworkRecord): Promise<void> {
    await this.write(join(this.root, 'networks', `${n.Id}.json`), null);
    this.networks.delete(n.Id);
  }

  async saveSandbox(s: SandboxRecord): Promise<void> {
    await this.save(join(this.root, 'sandboxes', `${s.containerId}.json`), s, this.sandboxes, s.containerId);
  }

  async removeSandbox(id: string): Promise<void> {
    await this.write(join(this.root, 'sandboxes', `${id}.json`), null);
    this.sandboxes.delete(id);
  }

  /** Writes, then puts the record in memory; on failure, the one in memory is as it was. */
  private async save<T extends object>(path: string, rec: T, map: Map<string, T>, key: string): Promise<void> {
    try {
      await this.write(path, rec);
    } catch (err) {
      const before = this.accepted.get(path);
      if (before !== undefined && map.get(key) === rec) restoreInPlace(rec, JSON.parse(before));
      throw err;
    }
    map.set(key, rec);
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
    const next = prev.catch(() => {}).then(async () => {
      if (data === null) {
        await unlink(path).catch(() => {});
        this.accepted.delete(path);
      } else {
        await this.fs.writeFileAtomic(path, data);
        this.accepted.set(path, data);
      }
    });
    this.queues.set(path, next);
    return next;
  }
}

function restoreInPlace(rec: object, before: object): void {
  const r = rec as Record<string, unknown>;
  for (const key of Object.keys(r)) if (!(key in before)) delete r[key];
  Object.assign(r, before);
}
