// The default IPAM: one IPv4 pool per network (and one IPv6 pool on a dual-stack network),
// allocations recorded in the network's record (persisted with it) so an address is never handed
// out twice and survives a daemon restart.
import { conflict, invalid } from '../../core/plugin-api.js';
import { contains, intToIp, ipToInt, parseCidr, size } from './cidr.js';
import { bigToIp6, contains6, ip6ToBig, isV6Cidr, parseCidr6, size6 } from './cidr6.js';

export interface IpamState {
  subnet: string;
  gateway: string;
  /** Where container addresses come from (--ip-range, --fixed-cidr); the subnet when absent. */
  ipRange?: string;
  /** address → endpoint ID */
  allocated: Record<string, string>;
}

/** Takes an address for `owner`: the requested one (checked), else the lowest free one in range. */
export function allocate(state: IpamState, owner: string, requested?: string): string {
  if (isV6Cidr(state.subnet)) return allocate6(state, owner, requested);
  const subnet = parseCidr(state.subnet);
  const reserved = (n: number) => n === subnet.base || n === subnet.base + size(subnet.bits) - 1 || intToIp(n) === state.gateway;
  if (requested) {
    const n = ipToInt(requested);
    if (!contains(subnet, n)) throw invalid(`no available IPv4 addresses on this network's address pools: ${state.subnet} (requested ${requested} is out of range)`);
    const holder = state.allocated[requested];
    if (holder && holder !== owner) throw conflict(`Address already in use`);
    if (reserved(n)) throw conflict(`Address already in use`);
    state.allocated[requested] = owner;
    return requested;
  }
  const mine = Object.entries(state.allocated).find(([, o]) => o === owner);
  if (mine) return mine[0];
  const range = state.ipRange ? parseCidr(state.ipRange) : subnet;
  for (let n = range.base; n < range.base + size(range.bits); n++) {
    if (reserved(n) || !contains(subnet, n)) continue;
    const ip = intToIp(n);
    if (state.allocated[ip]) continue;
    state.allocated[ip] = owner;
    return ip;
  }
  throw invalid(`no available IPv4 addresses on this network's address pools: ${state.subnet}`);
}

export function release(state: IpamState, owner: string): void {
  for (const [ip, o] of Object.entries(state.allocated)) if (o === owner) delete state.allocated[ip];
}

/** IPv6: the same rules; the subnet's first address (subnet-router anycast) and the gateway are
 * reserved, there is no broadcast address. Addresses are kept in canonical form. */
function allocate6(state: IpamState, owner: string, requested?: string): string {
  const subnet = parseCidr6(state.subnet);
  const gateway = ip6ToBig(state.gateway);
  const reserved = (n: bigint) => n === subnet.base || n === gateway;
  if (requested) {
    const n = ip6ToBig(requested);
    const ip = bigToIp6(n);
    if (!contains6(subnet, n)) throw invalid(`no available IPv6 addresses on this network's address pools: ${state.subnet} (requested ${requested} is out of range)`);
    const holder = state.allocated[ip];
    if ((holder && holder !== owner) || reserved(n)) throw conflict(`Address already in use`);
    state.allocated[ip] = owner;
    return ip;
  }
  const mine = Object.entries(state.allocated).find(([, o]) => o === owner);
  if (mine) return mine[0];
  const range = state.ipRange ? parseCidr6(state.ipRange) : subnet;
  // Bounded: at most one step per address already taken, plus the reserved ones.
  const end = range.base + size6(range.bits);
  for (let n = range.base, steps = 0; n < end && steps <= Object.keys(state.allocated).length + 2; n++, steps++) {
    if (reserved(n) || !contains6(subnet, n)) continue;
    const ip = bigToIp6(n);
    if (state.allocated[ip]) continue;
    state.allocated[ip] = owner;
    return ip;
  }
  throw invalid(`no available IPv6 addresses on this network's address pools: ${state.subnet}`);
}
