// The default IPAM: one IPv4 pool per network, allocations recorded in the network's record
// (persisted with it) so an address is never handed out twice and survives a daemon restart.
import { conflict, invalid } from '../../core/plugin-api.js';
import { contains, intToIp, ipToInt, parseCidr, size } from './cidr.js';

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
