// IPv4 arithmetic for IPAM and pool selection: addresses as unsigned 32-bit numbers.
import { invalid } from '../../core/plugin-api.js';

export interface Cidr {
  /** The network address. */
  base: number;
  bits: number;
}

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw invalid(`invalid IP address: ${ip}`);
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export const isIp = (s: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(s) && s.split('.').every((p) => Number(p) <= 255);

/** "10.1.2.3/24" → its network (base) and the address as written (ip). */
export function parseCidr(s: string): Cidr & { ip: number } {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s);
  if (!m || !isIp(m[1]) || Number(m[2]) > 32) throw invalid(`invalid CIDR address: ${s}`);
  const bits = Number(m[2]);
  const ip = ipToInt(m[1]);
  return { ip, bits, base: ip - (ip % size(bits)) };
}

export const size = (bits: number) => 2 ** (32 - bits);
export const cidrString = (c: Cidr) => `${intToIp(c.base)}/${c.bits}`;
export const contains = (c: Cidr, ip: number) => ip >= c.base && ip < c.base + size(c.bits);
export const overlaps = (a: Cidr, b: Cidr) => a.base < b.base + size(b.bits) && b.base < a.base + size(a.bits);
