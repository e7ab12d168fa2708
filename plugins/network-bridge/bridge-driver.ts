// The bridge network driver (dockerd's bridge): a Linux bridge per network, a veth pair per
// endpoint, NAT and isolation rules, published ports through DNAT plus the userland proxy (served
// by the daemon at once, then by a process per endpoint with ports, which outlives the daemon:
// proxy-processes.ts).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { configError, type PluginFs } from '../../core/plugin-api.js';
import { cidrString, contains, intToIp, parseCidr } from '../network/index.js';
import { NETWORK_DRIVER_API, type DefaultNetworkRequest, type EndpointRecord, type JoinOptions, type NetworkDriver, type NetworkRecord, type PortBinding } from '../network/index.js';
import { freePool } from '../network/index.js';
import { DEFAULT_BRIDGE, networkSettings, OPT, OPTIONS_SCHEMA, type BridgeConfig } from './bridge-config.js';
import { addVeth, bridgeAddress, bridgeExists, deleteBridge, ensureBridge, removeVeth } from './bridge-link.js';
import type { Iptables } from './iptables.js';
import type { ProxyTarget } from './port-proxy.js';
import type { ProxyProcesses } from './proxy-processes.js';
import { networkRules, portRules } from './rules.js';

export class BridgeDriver implements NetworkDriver {
  readonly name = 'bridge';
  readonly apiVersion = NETWORK_DRIVER_API;
  readonly optionsSchema = OPTIONS_SCHEMA;
  /** Networks whose rules are in place (by ID). */
  private readonly installed = new Set<string>();
  /** Bridges this driver made (and so removes); persisted across restarts. */
  private owned = new Set<string>();

  constructor(
    private readonly cfg: BridgeConfig,
    private readonly iptables: Iptables | null,
    /** ip6tables, for dual-stack networks: the same chains and tags as IPv4's. */
    private readonly ip6tables: Iptables | null,
    private readonly stateDir: string,
    private readonly log: Logger,
    private readonly fs: PluginFs,
    private readonly proxies: ProxyProcesses,
  ) {}

  private settings(net: NetworkRecord) {
    return networkSettings(net.Options, this.cfg, net.Id);
  }

  async defaultNetwork({ previous, takenSubnets }: { previous?: NetworkRecord; takenSubnets: string[] }): Promise<DefaultNetworkRequest | null> {
    const c = this.cfg;
    if (c.bridge === 'none') return null;
    const name = c.bridge || DEFAULT_BRIDGE;
    let gatewayCidr: string | undefined;
    if (name !== DEFAULT_BRIDGE) {
      if (!bridgeExists(name)) throw configError(`bridge device with non default name ${name} must be created manually`);
      gatewayCidr = await bridgeAddress(name);
      if (!gatewayCidr) throw configError(`bridge ${name} has no IPv4 address`);
    } else if (c.bip) {
      gatewayCidr = c.bip;
    } else if (previous?.Options[OPT.name] === name && previous.ipam) {
      gatewayCidr = `${previous.ipam.gateway}/${previous.ipam.subnet.split('/')[1]}`;
    } else {
      gatewayCidr = bridgeExists(name) ? await bridgeAddress(name) : undefined;
      if (!gatewayCidr) {
        const pool = parseCidr(await freePool(takenSubnets, [name]));
        gatewayCidr = `${intToIp(pool.base + 1)}/${pool.bits}`;
      }
    }
    const net = parseCidr(gatewayCidr);
    if (c.fixedCidr) {
      const r = parseCidr(c.fixedCidr);
      if (r.bits < net.bits || !contains(net, r.base)) throw configError(`fixed-cidr ${c.fixedCidr} is not within the bridge's subnet ${cidrString(net)}`);
    }
    return {
      name: 'bridge', subnet: cidrString(net), gateway: intToIp(net.ip), ...(c.fixedCidr ? { ipRange: cidrString(parseCidr(c.fixedCidr)) } : {}),
      options: {
        [OPT.isDefault]: 'true', [OPT.icc]: String(c.icc), [OPT.masq]: String(c.ipMasq), [OPT.hostIp]: c.ip, [OPT.name]: name, [OPT.mtu]: String(c.mtu),
      },
    };
  }

  async reconcile(): Promise<void> {
    this.owned = new Set(JSON.parse(await readFile(join(this.stateDir, 'owned-bridges.json'), 'utf8').catch(() => '[]')) as string[]);
    await this.iptables?.removeOwnRules();
    await this.ip6tables?.removeOwnRules();
    await this.proxies.load();
    if (this.cfg.ipForward) {
      const now = await readFile('/proc/sys/net/ipv4/ip_forward', 'utf8').catch(() => '1');
      if (now.trim() !== '1') await writeFile('/proc/sys/net/ipv4/ip_forward', '1');
    }
  }

  private saveOwned(owned: Set<string>): Promise<void> {
    return this.fs.writeFileAtomic(join(this.stateDir, 'owned-bridges.json'), JSON.stringify([...owned]));
  }

  async createNetwork(net: NetworkRecord): Promise<void> {
    const s = this.settings(net);
    const pool = net.IPAM.Config[0];
    if (!pool?.Gateway) throw new Error(`network ${net.Name}: no gateway`);
    const mayCreate = !(net.Options[OPT.isDefault] === 'true' && s.bridge !== DEFAULT_BRIDGE);
    if (!mayCreate && !bridgeExists(s.bridge)) throw configError(`bridge device with non default name ${s.bridge} must be created manually`);
    const pool6 = this.pool6(net);
    const made = await ensureBridge(s.bridge, `${pool.Gateway}/${pool.Subnet.split('/')[1]}`, s.mtu, mayCreate, pool6 && `${pool6.Gateway}/${pool6.Subnet.split('/')[1]}`);
    // berth0 is Berth's whoever made it: the last daemon to leave it (none attached) removes it.
    if ((made || s.bridge === DEFAULT_BRIDGE) && !this.owned.has(s.bridge)) {
      // On disk first: a bridge whose ownership cannot be recorded (a full disk) is not kept.
      const owned = new Set(this.owned).add(s.bridge);
      try {
        await this.saveOwned(owned);
      } catch (err) {
        if (made) await deleteBridge(s.bridge).catch(() => false);
        throw err;
      }
      this.owned = owned;
    }
    if (this.iptables && !this.installed.has(net.Id)) {
      await this.iptables.add(networkRules({ bridge: s.bridge, subnet: pool.Subnet, icc: s.icc, masq: s.masq, internal: net.Internal }));
      if (pool6 && this.ip6tables) {
        try {
          await this.ip6tables.add(networkRules({ bridge: s.bridge, subnet: pool6.Subnet, icc: s.icc, masq: s.masq, internal: net.Internal }));
        } catch (err) {
          await this.iptables.remove(networkRules({ bridge: s.bridge, subnet: pool.Subnet, icc: s.icc, masq: s.masq, internal: net.Internal }));
          throw err;
        }
      }
      this.installed.add(net.Id);
    }
  }

  /** The network's IPv6 pool, on a dual-stack network. */
  private pool6(net: NetworkRecord) {
    return net.EnableIPv6 ? net.IPAM.Config.find((c) => c.Subnet.includes(':')) : undefined;
  }

  async deleteNetwork(net: NetworkRecord): Promise<void> {
    const s = this.settings(net);
    const pool = net.IPAM.Config[0];
    if (this.iptables && pool) await this.iptables.remove(networkRules({ bridge: s.bridge, subnet: pool.Subnet, icc: s.icc, masq: s.masq, internal: net.Internal }));
    const pool6 = this.pool6(net);
    if (this.ip6tables && pool6) await this.ip6tables.remove(networkRules({ bridge: s.bridge, subnet: pool6.Subnet, icc: s.icc, masq: s.masq, internal: net.Internal }));
    this.installed.delete(net.Id);
    if (this.owned.has(s.bridge)) {
      if (!(await deleteBridge(s.bridge))) this.log.info({ bridge: s.bridge }, 'bridge still has interfaces attached (another daemon?): left in place');
      const owned = new Set(this.owned);
      owned.delete(s.bridge);
      await this.saveOwned(owned);
      this.owned = owned;
    }
  }

  async join(net: NetworkRecord, ep: EndpointRecord, netnsPath: string, opts: JoinOptions): Promise<void> {
    const s = this.settings(net);
    // A shared berth0 another daemon removed when it stopped is made again.
    if (!bridgeExists(s.bridge)) await this.createNetwork(net);
    return addVeth(ep, netnsPath, s.bridge, opts.ifName, s.mtu, opts.defaultRoute);
  }

  leave(_net: NetworkRecord, ep: EndpointRecord): Promise<void> {
    return removeVeth(ep);
  }

  async publish(net: NetworkRecord, ep: EndpointRecord, ports: PortBinding[]): Promise<PortBinding[]> {
    const s = this.settings(net);
    const targets: ProxyTarget[] = ports.map((b) => ({ proto: b.proto, hostIp: b.hostIp || s.hostIp, hostPort: b.hostPort, containerIp: ep.ip!, containerPort: b.containerPort }));
    // After a daemon restart the container's proxy may still run with these very ports: it stays.
    const adopted = ports.every((b) => b.hostPort) && await this.proxies.adopt(ep.id, targets);
    const hostPorts = adopted ? targets.map((t) => t.hostPort) : await this.proxies.start(ep.id, targets);
    const done = ports.map((b, i) => ({ ...b, hostIp: targets[i].hostIp, hostPort: hostPorts[i] }));
    try {
      await this.iptables?.add(done.flatMap((b) => portRules(s.bridge, ep.ip!, b)));
    } catch (err) {
      await this.proxies.stop(ep.id);
      throw err;
    }
    return done;
  }

  async unpublish(net: NetworkRecord, ep: EndpointRecord, ports: PortBinding[]): Promise<void> {
    const s = this.settings(net);
    await this.proxies.stop(ep.id);
    await this.iptables?.remove(ports.flatMap((b) => portRules(s.bridge, ep.ip!, b)));
  }

  /** Daemon start, endpoints restored: proxies of containers that ended meanwhile go. */
  async restored(): Promise<void> {
    await this.proxies.sweep();
  }

  async shutdown(networks: NetworkRecord[], liveRestore: boolean): Promise<void> {
    // With live-restore the proxies stay with their containers, for the next run to adopt: those
    // still taking over their ports from the daemon are waited for.
    if (liveRestore) return this.proxies.settle();
    await this.proxies.stopAll();
    for (const net of networks) await this.deleteNetwork(net).catch((err) => this.log.warn({ err, network: net.Name }, 'cannot remove network at shutdown'));
    await this.iptables?.teardown().catch((err) => this.log.warn({ err }, 'cannot remove iptables chains'));
    await this.ip6tables?.teardown().catch((err) => this.log.warn({ err }, 'cannot remove ip6tables chains'));
  }
}
