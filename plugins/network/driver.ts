// The network-driver interface: what a driver plugin (plugins/network-bridge, or yours) implements
// and registers as ctx.drivers.register('network', { name, api, driver }). Its version is
// NETWORK_DRIVER_API (semver): `api` states the version the driver was written for; the core's
// driver registry refuses another major or a newer minor.
// The guide for driver authors is README.md beside this file.
import type { JsonSchema } from '../../core/plugin-api.js';
import type { IpamState } from './ipam.js';

export const NETWORK_DRIVER_API = '1.2.0';
/** The first version whose drivers give endpoints their IPv6 address (ep.ip6): dual-stack networks need it. */
export const IPV6_DRIVER_API = '1.2.0';

export interface IpamConfig { Subnet: string; Gateway?: string; IPRange?: string }

/** A network as stored and as `docker network inspect` shows it (without Containers). */
export interface NetworkRecord {
  Id: string;
  Name: string;
  Driver: string;
  Created: string;
  Scope: 'local' | 'global';
  EnableIPv6: boolean;
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: IpamConfig[] };
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
  /** Address allocations (the IPAM's state); absent for networks without addresses (host, none). */
  ipam?: IpamState;
  /** The IPv6 pool's allocations, on a network with EnableIPv6 (since 1.2.0). */
  ipam6?: IpamState;
  /** A network the daemon itself defines (bridge, host, none): `docker network rm` refuses it. */
  predefined?: boolean;
}

/** A container's membership of one network. */
export interface EndpointRecord {
  id: string;
  networkId: string;
  containerId: string;
  /** Assigned by the IPAM before join; kept while the container exists. */
  ip?: string;
  prefixLen?: number;
  gateway?: string;
  mac?: string;
  /** On a dual-stack network (since 1.2.0): the IPv6 address, its prefix length and gateway. */
  ip6?: string;
  prefixLen6?: number;
  gateway6?: string;
  aliases: string[];
  /** docker run --ip / connect --ip. */
  requestedIp?: string;
  /** docker run --ip6 / connect --ip6. */
  requestedIp6?: string;
  /** docker run --mac-address / the endpoint config's MacAddress: used as `mac` at join. */
  requestedMac?: string;
  /** Set by the controller while the endpoint's interface exists (between join and leave). */
  joined?: boolean;
}

export interface PortBinding {
  proto: 'tcp' | 'udp';
  containerPort: number;
  /** 0.0.0.0 for all host addresses; '' for the driver's default (dockerd's --ip). */
  hostIp: string;
  /** 0 asks the driver for a free port of the ephemeral range. */
  hostPort: number;
}

export interface JoinOptions {
  /** The interface's name inside the namespace (eth0, eth1 …). */
  ifName: string;
  /** This endpoint gives the container its default route. */
  defaultRoute: boolean;
}

/** What a driver asks for as the daemon's default network (the bridge driver's `bridge`). */
export interface DefaultNetworkRequest {
  name: string;
  subnet: string;
  gateway: string;
  ipRange?: string;
  options: Record<string, string>;
}

export interface NetworkDriver {
  /** The name users give to `docker network create -d`. */
  name: string;
  /** The NETWORK_DRIVER_API version this driver was written for, read by the networks service's
   * registerDriver (drivers written before ctx.drivers); a registration states it as `api`. */
  apiVersion?: string;
  /** JSON Schema of `docker network create -o key=value` options (values are strings). */
  optionsSchema?: JsonSchema;
  /** Daemon start: the default network this driver wants, given the stored one (if any) and the
   * subnets other networks hold; null for none (e.g. `--bridge none`). */
  defaultNetwork?(ctx: { previous?: NetworkRecord; takenSubnets: string[] }): Promise<DefaultNetworkRequest | null>;
  /** Daemon start, before any createNetwork: drop what an earlier run of this daemon left behind
   * (after a crash) so that restoring networks and endpoints makes no duplicates. */
  reconcile?(networks: NetworkRecord[]): Promise<void>;
  /** Realises a network (a create, or a restore at daemon start): must be idempotent. */
  createNetwork(net: NetworkRecord): Promise<void>;
  /** Removes all the network holds on the host. */
  deleteNetwork(net: NetworkRecord): Promise<void>;
  /** Creates the endpoint's interface inside the namespace at `netnsPath`, with ep.ip/prefixLen/mac,
   * and the default route via ep.gateway when asked; on a dual-stack network (1.2.0) also
   * ep.ip6/prefixLen6 and the default IPv6 route via ep.gateway6. */
  join(net: NetworkRecord, ep: EndpointRecord, netnsPath: string, opts: JoinOptions): Promise<void>;
  /** Removes the endpoint's interface (the namespace may already be gone). */
  leave(net: NetworkRecord, ep: EndpointRecord): Promise<void>;
  /** External connectivity: makes the ports reachable from the host; returns them with the host
   * ports actually taken. A port already taken fails with nothing left behind. */
  publish(net: NetworkRecord, ep: EndpointRecord, ports: PortBinding[]): Promise<PortBinding[]>;
  unpublish(net: NetworkRecord, ep: EndpointRecord, ports: PortBinding[]): Promise<void>;
  /** Daemon start, after `publish` ran again for the ports of the containers still running
   * (since 1.1.0): what an earlier run left for endpoints nobody claimed goes (a port proxy
   * process whose container ended while the daemon was down). */
  restored?(): Promise<void>;
  /** Daemon stop: `liveRestore` false means remove everything this daemon created; true means
   * leave what running containers use (interfaces, rules, port proxies) for the next run. */
  shutdown?(networks: NetworkRecord[], liveRestore: boolean): Promise<void>;
}

/** What a network-driver plugin registers: ctx.drivers.register('network', registration). */
export interface NetworkDriverRegistration {
  /** The driver's name, as `docker network create -d` gives it (the same as driver.name). */
  name: string;
  /** The NETWORK_DRIVER_API version the driver was written for. */
  api: string;
  driver: NetworkDriver;
}
