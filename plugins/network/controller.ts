// The network controller (libnetwork's role): drivers, the stored networks, network create and
// remove, and the daemon start (reconcile what a crash left, restore networks) and stop.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { conflict, denied, invalid, notFound, type PluginSchema } from '../../core/plugin-api.js';
import { cidrString, contains, intToIp, ipToInt, overlaps, parseCidr } from './cidr.js';
import { bigToIp6, cidr6String, contains6, ip6ToBig, isV6Cidr, overlaps6, parseCidr6 } from './cidr6.js';
import { IPV6_DRIVER_API, type IpamConfig, type NetworkDriver, type NetworkDriverRegistration, type NetworkRecord } from './driver.js';
import type { NetworkStore } from './network-store.js';
import { freePool } from './pools.js';

export interface CreateRequest {
  Name: string;
  Driver?: string;
  Scope?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network?: string } | null;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Options?: Record<string, string> | null; Config?: IpamConfig[] | null };
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/** Networks without a driver plugin: a container there gets no interface from Berth. */
export const DRIVERLESS = new Set(['null', 'host']);
/** Names only the daemon's own networks have (dockerd's IsPredefined). */
const PREDEFINED = new Set(['bridge', 'host', 'none', 'default']);

const semverAtLeast = (v: string, min: string) => {
  const [a, b] = [v, min].map((x) => x.split('.').map(Number));
  return a[0] === b[0] && (a[1] > b[1] || (a[1] === b[1] && a[2] >= b[2]));
};

/** The request's pools by family: one IPv4 pool (or none: a default one), one IPv6 pool with EnableIPv6. */
function splitPools(configs: IpamConfig[], enableIPv6: boolean): { v4?: IpamConfig; v6?: IpamConfig } {
  const v6 = configs.filter((c) => isV6Cidr(c.Subnet ?? '') || (!c.Subnet && isV6Cidr(c.Gateway ?? '')));
  const v4 = configs.filter((c) => !v6.includes(c));
  if (v4.length > 1) throw invalid('only one IPv4 address pool per network is supported');
  if (v6.length > 1) throw invalid('only one IPv6 address pool per network is supported');
  if (v6.length && !enableIPv6) throw invalid(`IPv6 subnet ${v6[0].Subnet || v6[0].Gateway} given without EnableIPv6 (docker network create --ipv6)`);
  if (enableIPv6 && !v6[0]?.Subnet) throw invalid('EnableIPv6 needs an IPv6 subnet (--subnet): Berth has no default IPv6 address pools');
  return { v4: v4[0], v6: v6[0] };
}

export function newNetwork(name: string, driver: string, over: Partial<NetworkRecord> = {}): NetworkRecord {
  return {
    Id: randomBytes(32).toString('hex'), Name: name, Driver: driver, Created: new Date().toISOString(), Scope: 'local',
    EnableIPv6: false, Internal: false, Attachable: false, Ingress: false,
    IPAM: { Driver: 'default', Options: null, Config: [] }, ConfigFrom: { Network: '' }, ConfigOnly: false,
    Options: {}, Labels: {}, ...over,
  };
}

export class NetworkController {
  /** `registered` lists the drivers of kind "network" in the core's registry (ctx.drivers). */
  constructor(
    readonly store: NetworkStore,
    private readonly log: Logger,
    private readonly registered: () => NetworkDriverRegistration[],
    private readonly validate: PluginSchema['validate'],
  ) {}

  private get drivers(): Map<string, NetworkDriver> {
    return new Map(this.registered().map((r) => [r.name, r.driver]));
  }

  driverOf(net: NetworkRecord): NetworkDriver | undefined {
    return this.drivers.get(net.Driver);
  }

  /** The network a container with NetworkMode "default" joins: bridge, or none without one. */
  defaultMode(): string {
    return this.store.find('bridge') ? 'bridge' : 'none';
  }

  /** Subnets networks hold (config-only networks hold none: they take no addresses). */
  private takenSubnets(except?: string): string[] {
    return [...this.store.networks.values()].filter((n) => n.Id !== except && !n.ConfigOnly).flatMap((n) => n.IPAM.Config.map((c) => c.Subnet));
  }

  async create(req: CreateRequest): Promise<NetworkRecord> {
    if (!req.Name?.trim()) throw invalid('invalid name: name is empty');
    if (PREDEFINED.has(req.Name)) throw denied(`operation is not permitted on predefined ${req.Name} network `);
    if ([...this.store.networks.values()].some((n) => n.Name === req.Name)) {
      throw conflict(`network with name ${req.Name} already exists`);
    }
    if (req.Scope === 'swarm') throw denied('cannot create a swarm scoped network when swarm is not active');
    if (req.Scope && req.Scope !== 'local' && req.Scope !== 'global') throw invalid(`invalid scope ${JSON.stringify(req.Scope)}: expected local, global or swarm`);
    if (req.ConfigOnly) return this.createConfigOnly(req);
    const driverName = req.Driver || 'bridge';
    if (DRIVERLESS.has(driverName)) throw denied(`only one instance of "${driverName}" network is allowed`);
    const reg = this.registered().find((r) => r.name === driverName);
    if (!reg) throw notFound(`plugin "${driverName}" not found`);
    const driver = reg.driver;
    if (req.Ingress) throw denied('Ingress network can only be global scope network');
    // --config-from: the configuration (addresses, options, labels, IPv6) is the config-only network's.
    let from: NetworkRecord | undefined;
    if (req.ConfigFrom?.Network) {
      from = [...this.store.networks.values()].find((n) => n.ConfigOnly && n.Name === req.ConfigFrom!.Network);
      if (!from) throw notFound(`configuration network "${req.ConfigFrom.Network}" does not exist`);
      if (req.IPAM?.Config?.length || Object.keys(req.IPAM?.Options ?? {}).length || (req.IPAM?.Driver && req.IPAM.Driver !== 'default')
        || Object.keys(req.Labels ?? {}).length || req.EnableIPv6) {
        throw denied('user specified configurations are not supported if the network depends on a configuration network');
      }
      if (Object.keys(req.Options ?? {}).length) throw denied('network driver options are not supported if the network depends on a configuration network');
    }
    const enableIPv6 = from ? from.EnableIPv6 : Boolean(req.EnableIPv6);
    const options = from ? { ...from.Options } : req.Options ?? {};
    if (driver.optionsSchema) {
      const problems = this.validate(driver.optionsSchema, options, 'options');
      if (problems.length) throw invalid(`network driver ${driverName}: ${problems.join('; ')}`);
    }
    if (enableIPv6 && !semverAtLeast(reg.api, IPV6_DRIVER_API)) {
      throw invalid(`network driver ${driverName} does not support IPv6 (written for NETWORK_DRIVER_API ${reg.api}; IPv6 needs ${IPV6_DRIVER_API})`);
    }
    const { v4, v6 } = splitPools(from ? from.IPAM.Config : req.IPAM?.Config ?? [], enableIPv6);
    let pool: IpamConfig;
    if (v4?.Subnet) {
      pool = checkPool(v4, this.takenSubnets());
    } else {
      if (v4?.Gateway || v4?.IPRange) throw invalid('ip-range and gateway need a subnet');
      const subnet = await freePool(this.takenSubnets().filter((t) => !isV6Cidr(t)));
      pool = { Subnet: subnet, Gateway: intToIp(parseCidr(subnet).base + 1) };
    }
    const pool6 = v6 ? checkPool6(v6, this.takenSubnets()) : undefined;
    const ipamState = (p: IpamConfig) => ({ subnet: p.Subnet, gateway: p.Gateway!, ...(p.IPRange ? { ipRange: p.IPRange } : {}), allocated: {} });
    const net = newNetwork(req.Name, driverName, {
      Scope: (req.Scope as NetworkRecord['Scope']) || 'local', EnableIPv6: enableIPv6,
      Internal: Boolean(req.Internal), Attachable: Boolean(req.Attachable),
      IPAM: from ? { ...from.IPAM, Config: [pool, ...(pool6 ? [pool6] : [])] }
        : { Driver: req.IPAM?.Driver || 'default', Options: req.IPAM?.Options ?? {}, Config: [pool, ...(pool6 ? [pool6] : [])] },
      ConfigFrom: { Network: from?.Name ?? '' },
      Options: options, Labels: from ? { ...from.Labels } : req.Labels ?? {},
      ipam: ipamState(pool), ...(pool6 ? { ipam6: ipamState(pool6) } : {}),
    });
    await driver.createNetwork(net);
    try {
      await this.store.saveNetwork(net);
    } catch (err) {
      await driver.deleteNetwork(net).catch(() => {});
      throw err;
    }
    return net;
  }

  /** --config-only: a network that only holds configuration for --config-from networks; no driver,
   * no addresses taken (dockerd makes it a local "null" network). */
  private async createConfigOnly(req: CreateRequest): Promise<NetworkRecord> {
    if (req.Ingress || req.Internal || req.Attachable || req.Scope) {
      throw denied('configuration network can only contain network specific fields. Network operator fields like [ ingress | internal | attachable | scope ] are not supported.');
    }
    if (req.ConfigFrom?.Network) throw denied('a configuration network cannot depend on another configuration network');
    const { v4, v6 } = splitPools(req.IPAM?.Config ?? [], Boolean(req.EnableIPv6));
    const pools = [...(v4?.Subnet ? [checkPool(v4, [])] : []), ...(v6 ? [checkPool6(v6, [])] : [])];
    if (v4 && !v4.Subnet && (v4.Gateway || v4.IPRange)) throw invalid('ip-range and gateway need a subnet');
    const net = newNetwork(req.Name, 'null', {
      ConfigOnly: true, EnableIPv6: Boolean(req.EnableIPv6),
      IPAM: { Driver: req.IPAM?.Driver || 'default', Options: req.IPAM?.Options ?? {}, Config: pools },
      Options: req.Options ?? {}, Labels: req.Labels ?? {},
    });
    await this.store.saveNetwork(net);
    return net;
  }

  async remove(net: NetworkRecord): Promise<void> {
    if (net.predefined) throw denied(`${net.Name} is a pre-defined network and cannot be removed`);
    if (net.ConfigOnly && [...this.store.networks.values()].some((n) => n.ConfigFrom.Network === net.Name)) {
      throw denied(`error while removing network: configuration network "${net.Name}" is in use`);
    }
    // As dockerd: stopped containers do not hold a network; their start then fails with "not found".
    if (this.store.activeEndpointsOf(net.Id).length) {
      throw denied(`error while removing network: network ${net.Name} id ${net.Id} has active endpoints`);
    }
    await this.driverOf(net)?.deleteNetwork(net);
    await this.store.removeNetwork(net);
  }

  /** Daemon start: predefined networks, the drivers' default networks, then every network realised
   * again on a host cleaned of what an earlier run left. */
  async restore(): Promise<void> {
    // Predefined networks are derived from the configuration at every start: one the disk cannot
    // take now (a full data root) is used all the same, and written at the next start.
    const keep = (net: NetworkRecord) => this.store.saveNetwork(net).catch((err) => {
      this.log.warn({ err: (err as Error).message, network: net.Name }, 'cannot save predefined network; using it unsaved');
      this.store.networks.set(net.Id, net);
    });
    for (const [name, driver] of [['none', 'null'], ['host', 'host']]) {
      if (!this.store.find(name)) await keep(newNetwork(name, driver, { predefined: true }));
    }
    for (const d of this.drivers.values()) {
      if (!d.defaultNetwork) continue;
      const previous = [...this.store.networks.values()].find((n) => n.predefined && n.Driver === d.name);
      const req = await d.defaultNetwork({ previous, takenSubnets: this.takenSubnets(previous?.Id) });
      if (!req) {
        if (previous) await this.store.removeNetwork(previous);
        continue;
      }
      const net = previous ? structuredClone(previous) : newNetwork(req.name, d.name, { predefined: true });
      const pool: IpamConfig = { Subnet: req.subnet, Gateway: req.gateway, ...(req.ipRange ? { IPRange: req.ipRange } : {}) };
      const same = net.ipam?.subnet === req.subnet;
      net.IPAM = { ...net.IPAM, Config: [pool] };
      net.Options = req.options;
      net.ipam = { subnet: req.subnet, gateway: req.gateway, ...(req.ipRange ? { ipRange: req.ipRange } : {}), allocated: same ? net.ipam!.allocated : {} };
      await keep(net);
    }
    const all = [...this.store.networks.values()];
    for (const d of this.drivers.values()) await d.reconcile?.(all.filter((n) => n.Driver === d.name));
    for (const net of all) {
      const d = this.driverOf(net);
      if (!d && !DRIVERLESS.has(net.Driver)) this.log.warn({ network: net.Name, driver: net.Driver }, 'network driver not loaded: network left as it is');
      await d?.createNetwork(net).catch((err) => this.log.error({ err, network: net.Name }, 'cannot restore network'));
    }
  }

  /** Daemon start, endpoints and ports restored: the drivers drop what nobody claimed. */
  async restored(): Promise<void> {
    for (const d of this.drivers.values()) await d.restored?.().catch((err) => this.log.warn({ err, driver: d.name }, 'network driver restore clean-up failed'));
  }

  async shutdown(liveRestore: boolean): Promise<void> {
    const all = [...this.store.networks.values()];
    for (const d of this.drivers.values()) {
      await d.shutdown?.(all.filter((n) => n.Driver === d.name), liveRestore).catch((err) => this.log.warn({ err, driver: d.name }, 'network driver shutdown failed'));
    }
  }
}

/** A user's pool: a real subnet, its gateway and range inside it, overlapping no other network. */
function checkPool(c: IpamConfig, taken: string[]): IpamConfig {
  const subnet = parseCidr(c.Subnet);
  if (subnet.ip !== subnet.base) throw invalid(`invalid subnet ${c.Subnet} : it should be ${cidrString(subnet)}`);
  // As dockerd: only other networks' pools count, not the host's routes (default pools avoid those).
  if (taken.filter((t) => !isV6Cidr(t)).some((t) => overlaps(parseCidr(t), subnet))) throw denied('Pool overlaps with other one on this address space');
  const inside = (ip: string) => contains(subnet, ipToInt(ip));
  if (c.Gateway && !inside(c.Gateway)) throw invalid(`Invalid gateway ${c.Gateway}: it is not in subnet ${c.Subnet}`);
  if (c.IPRange) {
    const r = parseCidr(c.IPRange);
    if (r.bits < subnet.bits || !inside(intToIp(r.base))) throw invalid(`Invalid ip-range ${c.IPRange}: it is not in subnet ${c.Subnet}`);
  }
  return { Subnet: c.Subnet, Gateway: c.Gateway || intToIp(subnet.base + 1), ...(c.IPRange ? { IPRange: c.IPRange } : {}) };
}

/** An IPv6 pool: the same checks; the gateway defaults to the subnet's first host address. */
function checkPool6(c: IpamConfig, taken: string[]): IpamConfig {
  const subnet = parseCidr6(c.Subnet);
  if (subnet.ip !== subnet.base) throw invalid(`invalid subnet ${c.Subnet} : it should be ${cidr6String(subnet)}`);
  if (subnet.bits > 126) throw invalid(`invalid subnet ${c.Subnet}: too small for a network`);
  if (taken.filter(isV6Cidr).some((t) => overlaps6(parseCidr6(t), subnet))) throw denied('Pool overlaps with other one on this address space');
  const inside = (ip: string) => contains6(subnet, ip6ToBig(ip));
  if (c.Gateway && !inside(c.Gateway)) throw invalid(`Invalid gateway ${c.Gateway}: it is not in subnet ${c.Subnet}`);
  if (c.IPRange) {
    const r = parseCidr6(c.IPRange);
    if (r.bits < subnet.bits || !contains6(subnet, r.base)) throw invalid(`Invalid ip-range ${c.IPRange}: it is not in subnet ${c.Subnet}`);
  }
  const gateway = c.Gateway ? bigToIp6(ip6ToBig(c.Gateway)) : bigToIp6(subnet.base + 1n);
  return { Subnet: cidr6String(subnet), Gateway: gateway, ...(c.IPRange ? { IPRange: c.IPRange } : {}) };
}
