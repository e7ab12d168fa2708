// A container's side of networking (libnetwork's sandbox): its endpoints from create on, its
// namespace and interfaces while it runs, published ports, its hosts and resolv.conf — rewritten
// whenever a peer on one of its user-defined networks comes or goes, so names resolve live.
import { randomBytes } from 'node:crypto';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { conflict, denied, invalid, type JobEvent, notFound, systemError } from '../../core/plugin-api.js';
import { embeddedResolvConf, hostsContent, resolvConfContent, writeInPlace } from './container-files.js';
import { EmbeddedDns } from './embedded-dns.js';
import { DRIVERLESS, type NetworkController } from './controller.js';
import type { EndpointRecord, NetworkRecord } from './driver.js';
import { allocate, release } from './ipam.js';
import type { SandboxRecord } from './network-store.js';
import type { NetnsFiles } from './netns.js';
import { portBindingsOf } from './ports.js';
import { settingsView } from './settings-view.js';

/** What the network plugin needs of a container record (container-store's Container). */
export interface ContainerLike {
  Id: string;
  Name: string;
  Config: { Hostname?: string; ExposedPorts?: Record<string, unknown> | null; MacAddress?: string };
  HostConfig: Record<string, unknown>;
}

export interface EndpointSettings {
  Aliases?: string[] | null;
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string } | null;
  MacAddress?: string | null;
}

/** A MAC address as Go's net.ParseMAC reads a 48-bit one (aa:bb:…, aa-bb-…, aabb.ccdd.eeff), in
 * the form `ip link` takes; undefined when it is not one, or not a unicast address. */
export function normalizeMac(mac: string): string | undefined {
  const m = /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i.exec(mac);
  const dotted = /^([0-9a-f]{4})\.([0-9a-f]{4})\.([0-9a-f]{4})$/i.exec(mac);
  const bytes = m ? [m[1], m[3], m[4], m[5], m[6], m[7]] : dotted ? dotted.slice(1).flatMap((g) => [g.slice(0, 2), g.slice(2)]) : undefined;
  if (!bytes || parseInt(bytes[0], 16) & 1) return undefined;
  return bytes.join(':').toLowerCase();
}

export class Sandboxes {
  readonly dns: EmbeddedDns;
  /** Containers stopping or being removed: no hosts file is written into their folders any more. */
  private readonly leaving = new Set<string>();
  /** The hosts-file write in flight per container: a release waits for it before the folder may go. */
  private readonly hostWrites = new Map<string, Promise<void>>();

  constructor(private readonly ctl: NetworkController, private readonly netns: NetnsFiles, private readonly log: Logger) {
    this.dns = new EmbeddedDns({
      lookup: (id, name) => {
        const sb = this.store.sandboxes.get(id);
        const ips = sb ? this.peersOf(sb, true).filter((p) => p.names.map((n) => n.toLowerCase()).includes(name)).map((p) => p.ip) : [];
        return ips.length ? [...new Set(ips)] : undefined;
      },
      upstream: (id) => this.store.sandboxes.get(id)?.files?.upstream ?? [],
    }, log);
  }

  /** A sandbox's user-defined networks' members (itself too when `self`), by address and names. */
  peersOf(sb: SandboxRecord, self = false): { ip: string; names: string[] }[] {
    const running = [...this.store.sandboxes.values()].filter((s) => s.netns && s.dir);
    const peers: { ip: string; names: string[] }[] = [];
    for (const ep of sb.endpoints) {
      const net = this.store.networks.get(ep.networkId);
      if (!net || net.predefined) continue;
      for (const other of running) {
        if (other === sb && !self) continue;
        const oep = other.endpoints.find((e) => e.networkId === net.Id && e.joined);
        const names = [...new Set([other.name, ...(oep?.aliases ?? []), other.containerId.slice(0, 12)])];
        if (oep?.ip) peers.push({ ip: oep.ip, names });
        if (oep?.ip6) peers.push({ ip: oep.ip6, names });
      }
    }
    return peers;
  }

  /** On a user-defined network: the embedded resolver in its namespace (dockerd's 127.0.0.11). */
  private async openDns(sb: SandboxRecord): Promise<boolean> {
    const onUserNetwork = sb.endpoints.some((ep) => ep.joined && !this.store.networks.get(ep.networkId)?.predefined);
    if (!onUserNetwork || !sb.netns) return false;
    try {
      await this.dns.open(sb.containerId, sb.netns);
      return true;
    } catch (err) {
      this.log.warn({ err, container: sb.containerId }, 'embedded DNS unavailable: the container uses its upstream resolvers');
      return false;
    }
  }

  /** Publishes an event outside any job (dockerd's `network connect`/`disconnect` at start and stop). */
  emit: (e: JobEvent) => void = () => {};

  private networkEvent(net: NetworkRecord, action: 'connect' | 'disconnect', containerId: string): void {
    this.emit({ Type: 'network', Action: action, Actor: { ID: net.Id, Attributes: { container: containerId, name: net.Name, type: net.Driver } } });
  }

  private get store() { return this.ctl.store; }

  findSandbox(ref: string): SandboxRecord | undefined {
    const all = [...this.store.sandboxes.values()];
    return this.store.sandboxes.get(ref) ?? all.find((s) => s.name === ref.replace(/^\//, '')) ?? all.find((s) => s.containerId.startsWith(ref));
  }

  newEndpoint(net: NetworkRecord, containerId: string, cfg: EndpointSettings = {}): EndpointRecord {
    if (net.ConfigOnly) throw denied('cannot create endpoint on configuration-only network');
    const userDefined = !net.predefined;
    if (!userDefined && cfg.Aliases?.length) throw invalid('network-scoped alias is supported only for containers in user defined networks');
    if (!userDefined && (cfg.IPAMConfig?.IPv4Address || cfg.IPAMConfig?.IPv6Address)) throw invalid('user specified IP address is supported on user defined networks only');
    let mac: string | undefined;
    if (cfg.MacAddress) {
      mac = normalizeMac(cfg.MacAddress);
      if (!mac) throw invalid(`invalid MAC address ${cfg.MacAddress}`);
      if (DRIVERLESS.has(net.Driver)) throw invalid('conflicting options: mac-address and the network mode');
    }
    const ip6 = cfg.IPAMConfig?.IPv6Address;
    if (ip6 && !net.ipam6) throw invalid(`invalid endpoint settings:\nuser specified IP address ${ip6} is not within any IPv6 subnet of network ${net.Name}`);
    return {
      id: randomBytes(32).toString('hex'), networkId: net.Id, containerId, aliases: cfg.Aliases ?? [],
      ...(cfg.IPAMConfig?.IPv4Address ? { requestedIp: cfg.IPAMConfig.IPv4Address } : {}),
      ...(ip6 ? { requestedIp6: ip6 } : {}),
      ...(mac ? { requestedMac: mac } : {}),
    };
  }

  /** container.create: the mode and networks checked, the sandbox recorded. */
  async created(c: ContainerLike, endpoints: Record<string, EndpointSettings> = {}, dryRun = false): Promise<void> {
    const raw = (c.HostConfig.NetworkMode as string | undefined) || 'default';
    let mode = raw === 'default' ? this.ctl.defaultMode() : raw;
    const eps: EndpointRecord[] = [];
    if (mode.startsWith('container:')) {
      if (c.Config.MacAddress) throw invalid('conflicting options: mac-address and the network mode');
      const other = this.findSandbox(mode.slice('container:'.length));
      if (!other) throw notFound(`No such container: ${mode.slice('container:'.length)}`);
      mode = `container:${other.containerId}`;
    } else {
      const net = this.store.get(mode);
      const primaryCfg = { ...(endpoints[net.Name] ?? endpoints[net.Id] ?? endpoints[raw]) };
      // The container-wide MacAddress (API < 1.44, docker-py's mac_address) is the primary endpoint's.
      const wide = c.Config.MacAddress;
      if (wide) {
        if (DRIVERLESS.has(net.Driver)) throw invalid('conflicting options: mac-address and the network mode');
        if (primaryCfg.MacAddress && primaryCfg.MacAddress !== wide) {
          throw invalid('the container-wide MAC address must match the endpoint-specific MAC address for the main network, or be left empty');
        }
        primaryCfg.MacAddress = wide;
      }
      eps.push(this.newEndpoint(net, c.Id, primaryCfg));
      for (const [ref, cfg] of Object.entries(endpoints)) {
        if (ref === raw || ref === mode) continue;
        const other = this.store.get(ref);
        if (other.Id === net.Id) continue;
        if (other.ConfigOnly) throw denied('cannot create endpoint on configuration-only network');
        if (DRIVERLESS.has(other.Driver) || DRIVERLESS.has(net.Driver)) throw invalid('Container cannot be connected to network endpoints');
        eps.push(this.newEndpoint(other, c.Id, cfg));
      }
    }
    if (dryRun) return;
    await this.store.saveSandbox({ containerId: c.Id, name: c.Name.replace(/^\//, ''), hostname: c.Config.Hostname || c.Id.slice(0, 12), mode, endpoints: eps });
  }

  /** Before the runtime starts the container: returns the namespace it joins ('host' for the host's). */
  async prepare(c: ContainerLike, dir: string): Promise<{ network?: string }> {
    let sb = this.store.sandboxes.get(c.Id);
    if (!sb) {
      await this.created(c);
      sb = this.store.sandboxes.get(c.Id)!;
    }
    sb.dir = dir;
    sb.name = c.Name.replace(/^\//, '');
    sb.hostname = c.Config.Hostname || c.Id.slice(0, 12);
    const h = c.HostConfig as Record<string, string[] | undefined>;
    const files = join(dir, 'hosts');
    if (sb.mode === 'host') {
      await copyFile('/etc/hosts', files).catch(() => {});
      await copyFile('/etc/resolv.conf', join(dir, 'resolv.conf')).catch(() => {});
      await this.store.saveSandbox(sb);
      return { network: 'host' };
    }
    if (sb.mode.startsWith('container:')) {
      const other = this.store.sandboxes.get(sb.mode.slice('container:'.length));
      const otherId = sb.mode.slice('container:'.length);
      if (!other) throw notFound(`No such container: ${otherId}`);
      if (other.mode !== 'host' && !other.netns) throw conflict(`cannot join network of a non running container: ${otherId}`);
      for (const f of ['hosts', 'resolv.conf']) if (other.dir) await copyFile(join(other.dir, f), join(dir, f)).catch(() => {});
      await this.store.saveSandbox(sb);
      return { network: other.mode === 'host' ? 'host' : other.netns };
    }
    // A namespace left from a run nobody released (a crash between exit and release) goes first.
    if (sb.netns) await this.release(c.Id);
    // Not saved yet: a crash before the end leaves a namespace file that the next start removes.
    sb.netns = await this.netns.create(c.Id);
    this.leaving.delete(c.Id);
    try {
      let k = 0;
      for (const ep of sb.endpoints) {
        const net = this.store.networks.get(ep.networkId);
        if (!net) throw notFound(`network ${ep === sb.endpoints[0] && !sb.mode.startsWith('container:') ? sb.mode : ep.networkId} not found`);
        if (DRIVERLESS.has(net.Driver)) continue;
        await this.join(sb, net, ep, k++ === 0);
        this.networkEvent(net, 'connect', c.Id);
      }
      const primary = sb.endpoints[0];
      const pnet = primary && this.store.networks.get(primary.networkId);
      const ports = portBindingsOf(c);
      if (ports.length && pnet && !DRIVERLESS.has(pnet.Driver) && !pnet.Internal) {
        const driver = this.ctl.driverOf(pnet)!;
        try {
          sb.ports = await driver.publish(pnet, primary, ports);
        } catch (err) {
          throw systemError(`driver failed programming external connectivity on endpoint ${sb.name} (${primary.id}): ${(err as Error).message}`);
        }
      }
      const extraHosts = (h.ExtraHosts ?? []).map((e) => e.replace(/:host-gateway$/, `:${primary?.gateway ?? '127.0.0.1'}`));
      sb.files = { extraHosts, dns: h.Dns ?? [], search: h.DnsSearch ?? [], options: h.DnsOptions ?? [] };
      const resolv = {
        dns: h.Dns?.length ? h.Dns : this.daemonDns.dns, search: h.DnsSearch?.length ? h.DnsSearch : this.daemonDns.search,
        options: h.DnsOptions?.length ? h.DnsOptions : this.daemonDns.options,
      };
      if (await this.openDns(sb)) {
        const embedded = await embeddedResolvConf(resolv);
        sb.files.upstream = embedded.upstream;
        await writeInPlace(join(dir, 'resolv.conf'), embedded.content);
      } else {
        await writeInPlace(join(dir, 'resolv.conf'), await resolvConfContent(resolv));
      }
      await this.store.saveSandbox(sb);
      await this.refreshHosts();
    } catch (err) {
      await this.release(c.Id).catch((e) => this.log.warn({ err: e, container: c.Id }, 'cannot release network after a failed start'));
      throw err;
    }
    return { network: sb.netns };
  }

  daemonDns: { dns: string[]; search: string[]; options: string[] } = { dns: [], search: [], options: [] };

  private async join(sb: SandboxRecord, net: NetworkRecord, ep: EndpointRecord, first: boolean): Promise<void> {
    const driver = this.ctl.driverOf(net);
    if (!driver) throw notFound(`network driver ${net.Driver} not found`);
    if (!ep.ip && net.ipam) {
      ep.ip = allocate(net.ipam, ep.id, ep.requestedIp);
      ep.prefixLen = Number(net.ipam.subnet.split('/')[1]);
      ep.gateway = net.ipam.gateway;
      try {
        if (net.ipam6) {
          ep.ip6 = allocate(net.ipam6, ep.id, ep.requestedIp6);
          ep.prefixLen6 = Number(net.ipam6.subnet.split('/')[1]);
          ep.gateway6 = net.ipam6.gateway;
        }
      } catch (err) {
        release(net.ipam, ep.id);
        delete ep.ip;
        throw err;
      }
      ep.mac = ep.requestedMac ?? `02:42:${ep.ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0')).join(':')}`;
      await this.store.saveNetwork(net);
    }
    const ifName = `eth${sb.endpoints.filter((e) => e !== ep && e.joined).length}`;
    await driver.join(net, ep, sb.netns!, { ifName, defaultRoute: first && !net.Internal });
    ep.joined = true;
  }

  /** After the container stopped (or failed to start): its ports, interfaces and namespace go;
   * its addresses stay reserved for its next start. */
  async release(containerId: string): Promise<void> {
    // From here on the container is going away: a refresh skips its folder, and one already
    // writing there is waited for (the removal that follows deleted a folder being written into:
    // ENOTEMPTY, and a phantom folder left behind).
    this.leaving.add(containerId);
    await this.hostWrites.get(containerId);
    const sb = this.store.sandboxes.get(containerId);
    if (!sb?.netns) return;
    this.dns.close(containerId);
    const primary = sb.endpoints[0];
    const pnet = primary && this.store.networks.get(primary.networkId);
    if (sb.ports?.length && pnet) await this.ctl.driverOf(pnet)?.unpublish(pnet, primary, sb.ports).catch((err) => this.log.warn({ err }, 'cannot unpublish ports'));
    for (const ep of sb.endpoints) {
      const net = this.store.networks.get(ep.networkId);
      if (ep.joined && net) {
        await this.ctl.driverOf(net)?.leave(net, ep).catch((err) => this.log.warn({ err }, 'cannot remove endpoint interface'));
        this.networkEvent(net, 'disconnect', containerId);
      }
      delete ep.joined;
    }
    await this.netns.remove(sb.netns);
    delete sb.netns;
    this.hostsWritten.delete(containerId);
    delete sb.ports;
    await this.store.saveSandbox(sb);
    await this.refreshHosts();
  }

  /** The container is gone: its addresses go back to their pools. */
  async removed(containerId: string): Promise<void> {
    const sb = this.store.sandboxes.get(containerId);
    if (!sb) return;
    await this.release(containerId);
    for (const ep of sb.endpoints) await this.releaseAddress(ep);
    await this.store.removeSandbox(containerId);
    this.leaving.delete(containerId);
  }

  private async releaseAddress(ep: EndpointRecord): Promise<void> {
    const net = this.store.networks.get(ep.networkId);
    if (!net?.ipam) return;
    release(net.ipam, ep.id);
    if (net.ipam6) release(net.ipam6, ep.id);
    await this.store.saveNetwork(net);
  }

  async connect(containerRef: string, net: NetworkRecord, cfg: EndpointSettings): Promise<void> {
    const sb = this.findSandbox(containerRef);
    if (!sb) throw notFound(`No such container: ${containerRef}`);
    if (net.ConfigOnly) throw denied('cannot create endpoint on configuration-only network');
    if (DRIVERLESS.has(net.Driver) || sb.mode === 'host' || sb.mode === 'none' || sb.mode.startsWith('container:')) {
      throw denied(`container cannot be disconnected from host network or connected to host network`);
    }
    if (sb.endpoints.some((e) => e.networkId === net.Id)) throw denied(`endpoint with name ${sb.name} already exists in network ${net.Name}`);
    const ep = this.newEndpoint(net, sb.containerId, cfg);
    sb.endpoints.push(ep);
    try {
      if (sb.netns) await this.join(sb, net, ep, sb.endpoints.length === 1);
    } catch (err) {
      sb.endpoints = sb.endpoints.filter((e) => e !== ep);
      await this.releaseAddress(ep);
      throw err;
    }
    await this.store.saveSandbox(sb);
    await this.refreshHosts();
  }

  async disconnect(containerRef: string, net: NetworkRecord): Promise<void> {
    const sb = this.findSandbox(containerRef);
    if (!sb) throw notFound(`No such container: ${containerRef}`);
    const ep = sb.endpoints.find((e) => e.networkId === net.Id);
    if (!ep) throw denied(`container ${sb.containerId} is not connected to network ${net.Name}`);
    if (ep.joined) await this.ctl.driverOf(net)?.leave(net, ep);
    sb.endpoints = sb.endpoints.filter((e) => e !== ep);
    await this.releaseAddress(ep);
    await this.store.saveSandbox(sb);
    await this.refreshHosts();
  }

  /** Rewrites /etc/hosts of every running container: its own name, then its peers. */
  /** The hosts file content last written for each running container. */
  private readonly hostsWritten = new Map<string, string>();

  async refreshHosts(): Promise<void> {
    for (const sb of [...this.store.sandboxes.values()].filter((s) => s.netns && s.dir)) await this.writeHosts(sb);
  }

  /** One write at a time per container, decided when its turn comes: not for one going away. */
  private writeHosts(sb: SandboxRecord): Promise<void> {
    const id = sb.containerId;
    const write = (this.hostWrites.get(id) ?? Promise.resolve()).then(async () => {
      if (this.leaving.has(id) || !sb.netns || !sb.dir || this.store.sandboxes.get(id) !== sb) return;
      const content = hostsContent({ hostname: sb.hostname, ip: sb.endpoints[0]?.ip, ip6: sb.endpoints[0]?.ip6, extraHosts: sb.files?.extraHosts ?? [], peers: this.peersOf(sb) });
      // Only when its entries change, as dockerd: what a user wrote there (docker cp, an edit in
      // the container) stays until then.
      if (this.hostsWritten.get(id) === content) return;
      await writeInPlace(join(sb.dir, 'hosts'), content).then(() => this.hostsWritten.set(id, content), (err) => this.log.warn({ err, container: id }, 'cannot write hosts file'));
    });
    this.hostWrites.set(id, write);
    void write.then(() => { if (this.hostWrites.get(id) === write) this.hostWrites.delete(id); });
    return write;
  }

  /** Daemon start: sandboxes whose namespace is gone are released; namespaces nobody holds are removed;
   * ports of running containers are published again. */
  async restore(): Promise<void> {
    const keep = new Set<string>();
    const live = await this.netns.namespacesInUse();
    for (const sb of this.store.sandboxes.values()) {
      if (!sb.netns) continue;
      if (await this.netns.isMounted(sb.netns) && !(await this.netns.hasProcesses(sb.netns, live))) {
        // Its container ended while the daemon was down and nobody released it: do it now.
        await this.release(sb.containerId).catch((err) => this.log.warn({ err, container: sb.containerId }, 'cannot release network'));
        continue;
      }
      if (!(await this.netns.isMounted(sb.netns))) {
        const { netns: _gone, ports: _unpublished, ...rest } = sb;
        const next: SandboxRecord = { ...rest, endpoints: sb.endpoints.map(({ joined: _left, ...ep }) => ep) };
        // What the host shows is what memory holds: a disk that refuses the write (full) does not
        // stop the start; the next start finds the same and writes it again.
        await this.store.saveSandbox(next).catch((err) => {
          this.log.warn({ err: (err as Error).message, container: sb.containerId }, 'cannot save network sandbox; using it unsaved');
          this.store.sandboxes.set(next.containerId, next);
        });
        continue;
      }
      keep.add(sb.netns);
      if (sb.files?.upstream) await this.openDns(sb);
      const primary = sb.endpoints[0];
      const pnet = primary && this.store.networks.get(primary.networkId);
      if (sb.ports?.length && pnet) {
        sb.ports = await this.ctl.driverOf(pnet)!.publish(pnet, primary, sb.ports).catch((err) => {
          this.log.error({ err, container: sb.containerId }, 'cannot publish ports again');
          return sb.ports;
        });
      }
    }
    for (const path of await this.netns.leaked(keep)) {
      this.log.info({ netns: path }, 'removing a network namespace no container holds');
      await this.netns.remove(path);
    }
    await this.refreshHosts();
  }

  view(containerId: string): unknown {
    const sb = this.store.sandboxes.get(containerId);
    return sb ? settingsView(sb, this.store.networks, containerId) : undefined;
  }
}
