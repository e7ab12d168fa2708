// IPv6 arithmetic for dual-stack networks: addresses as 128-bit BigInts, written in the
// canonical form of RFC 5952 (what `ip -6 addr` and dockerd print).
import { invalid } from '../../core/plugin-api.js';

export interface Cidr6 {
  /** The network address. */
  base: bigint;
  bits: number;
}

const MAX = (1n << 128n) - 1n;

/** Parses an IPv6 address (with at most one "::", no zone, no embedded IPv4); undefined if it is not one. */
function parse(ip: string): bigint | undefined {
  if (!/^[0-9a-fA-F:]{2,39}$/.test(ip)) return undefined;
  const halves = ip.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export const isIp6 = (s: string) => parse(s) !== undefined;

export function ip6ToBig(ip: string): bigint {
  const n = parse(ip);
  if (n === undefined) throw invalid(`invalid IP address: ${ip}`);
  return n;
}

export function bigToIp6(n: bigint): string {
  const g = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  // The longest run of two or more zero groups becomes "::" (the first of equal runs).
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

export const size6 = (bits: number) => 1n << BigInt(128 - bits);

/** "fd00:1::5/64" → its network (base) and the address as written (ip). */
export function parseCidr6(s: string): Cidr6 & { ip: bigint } {
  const m = /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(s);
  const ip = m ? parse(m[1]) : undefined;
  if (!m || ip === undefined || Number(m[2]) > 128) throw invalid(`invalid CIDR address: ${s}`);
  const bits = Number(m[2]);
  return { ip, bits, base: ip & (MAX ^ (size6(bits) - 1n)) };
}

export const cidr6String = (c: Cidr6) => `${bigToIp6(c.base)}/${c.bits}`;
export const contains6 = (c: Cidr6, ip: bigint) => ip >= c.base && ip < c.base + size6(c.bits);
export const overlaps6 = (a: Cidr6, b: Cidr6) => a.base < b.base + size6(b.bits) && b.base < a.base + size6(a.bits);
export const isV6Cidr = (s: string) => s.includes(':');
