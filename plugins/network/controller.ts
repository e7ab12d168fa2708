// The network controller (libnetwork's role): drivers, the stored networks, network create and
// remove, and the daemon start (reconcile what a crash left, restore networks) and stop.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { conflict, denied, invalid, notFound, type PluginSchema } from '../../core/plugin-api.js';
import { cidrString, contains, intToIp, ipToInt, overlaps, parseCidr } from './cidr.js';
import type { IpamConfig, NetworkDriver, NetworkDriverRegistration, NetworkRecord } from './driver.js';
import type { NetworkStore } from './network-store.js';
import { freePool } from './pools.js';

export interface CreateRequest {
  Name: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Options?: Record<string, string> | null; Config?: IpamConfig[] | null };
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/** Networks without a driver plugin: a container there gets no interface from Berth. */
export const DRIVERLESS = new Set(['null', 'host']);

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

  private takenSubnets(except?: string): string[] {
    return [...this.store.networks.values()].filter((n) => n.Id !== except).flatMap((n) => n.IPAM.Config.map((c) => c.Subnet));
  }

  async create(req: CreateRequest): Promise<NetworkRecord> {
    if (!req.Name) throw invalid('network name must not be empty');
    if ([...this.store.networks.values()].some((n) => n.Name === req.Name)) {
      throw conflict(`network with name ${req.Name} already exists`);
    }
    const driverName = req.Driver || 'bridge';
    if (DRIVERLESS.has(driverName)) throw denied(`only one instance of "${driverName}" network is allowed`);
    const driver = this.drivers.get(driverName);
    if (!driver) throw notFound(`plugin "${driverName}" not found`);
    const options = req.Options ?? {};
    if (driver.optionsSchema) {
      const problems = this.validate(driver.optionsSchema, options, 'options');
      if (problems.length) throw invalid(`network driver ${driverName}: ${problems.join('; ')}`);
    }
    const configs = req.IPAM?.Config ?? [];
    if (configs.length > 1) throw invalid('only one IPv4 address pool per network is supported');
    let pool: IpamConfig;
    if (configs.length && configs[0].Subnet) {
      pool = checkPool(configs[0], this.takenSubnets());
    } else {
      if (configs[0]?.Gateway || configs[0]?.IPRange) throw invalid('ip-range and gateway need a subnet');
      const subnet = await freePool(this.takenSubnets());
      pool = { Subnet: subnet, Gateway: intToIp(parseCidr(subnet).base + 1) };
    }
    const net = newNetwork(req.Name, driverName, {
      Internal: Boolean(req.Internal), Attachable: Boolean(req.Attachable),
      IPAM: { Driver: req.IPAM?.Driver || 'default', Options: req.IPAM?.Options ?? {}, Config: [pool] },
      Options: options, Labels: req.Labels ?? {},
      ipam: { subnet: pool.Subnet, gateway: pool.Gateway!, ...(pool.IPRange ? { ipRange: pool.IPRange } : {}), allocated: {} },
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

  async remove(net: NetworkRecord): Promise<void> {
    if (net.predefined) throw denied(`${net.Name} is a pre-defined network and cannot be removed`);
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
  if (taken.some((t) => overlaps(parseCidr(t), subnet))) throw denied('Pool overlaps with other one on this address space');
  const inside = (ip: string) => contains(subnet, ipToInt(ip));
  if (c.Gateway && !inside(c.Gateway)) throw invalid(`Invalid gateway ${c.Gateway}: it is not in subnet ${c.Subnet}`);
  if (c.IPRange) {
    const r = parseCidr(c.IPRange);
    if (r.bits < subnet.bits || !inside(intToIp(r.base))) throw invalid(`Invalid ip-range ${c.IPRange}: it is not in subnet ${c.Subnet}`);
  }
  return { Subnet: c.Subnet, Gateway: c.Gateway || intToIp(subnet.base + 1), ...(c.IPRange ? { IPRange: c.IPRange } : {}) };
}
