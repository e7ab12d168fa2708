// Where a registry lives and how to reach it: docker.io's real host and mirrors, plain HTTP only
// for --insecure-registry entries and 127.0.0.0/8 (dockerd's default), HTTPS with the system CAs
// plus <certs-dir>/HOST:PORT/*.crt and a client pair (*.cert + *.key) otherwise.
import { readdirSync, readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { defaultTrust } from '../../lib/trusted-cas.js';
import type { TlsFiles } from './http-request.js';

export const DOCKER_HUB = 'docker.io';
export const DOCKER_HUB_REGISTRY = 'https://registry-1.docker.io';
export const DOCKER_HUB_INDEX = 'https://index.docker.io';

export interface EndpointOptions {
  insecure: string[];
  mirrors: string[];
  certsDir: string;
}

export interface Endpoint {
  /** The registry host as references name it (127.0.0.1:5000, docker.io). */
  host: string;
  /** Candidate base URLs in order (https before http for insecure registries). */
  bases: URL[];
  tls: TlsFiles;
  /** A mirror: credentials for the registry are not sent here. */
  mirror: boolean;
}

const ipv4ToInt = (ip: string) => ip.split('.').reduce((n, p) => (n << 8) + Number(p), 0) >>> 0;

function inCidr(ip: string, cidr: string): boolean {
  const [net, bits] = cidr.split('/');
  if (!isIPv4(ip) || !isIPv4(net)) return false;
  const b = Number(bits);
  const mask = b === 0 ? 0 : (~0 << (32 - b)) >>> 0;
  return (ipv4ToInt(ip) & mask) === (ipv4ToInt(net) & mask);
}

export function isInsecure(host: string, insecure: string[]): boolean {
  const hostname = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  if (hostname === 'localhost' || inCidr(hostname, '127.0.0.0/8') || hostname === '::1') return true;
  return insecure.some((e) => {
    const entry = e.replace(/^https?:\/\//, '').replace(/\/$/, '');
    return entry === host || entry === hostname || (entry.includes('/') && inCidr(hostname, entry));
  });
}

function tlsFor(host: string, certsDir: string, verify: boolean): TlsFiles {
  const trust = defaultTrust();
  const tls: TlsFiles = { verify, ...(trust ? { ca: trust } : {}) };
  let names: string[] = [];
  try {
    names = readdirSync(join(certsDir, host)).sort();
  } catch { return tls; }
  const read = (n: string) => readFileSync(join(certsDir, host, n), 'utf8');
  const cas = names.filter((n) => n.endsWith('.crt')).map(read);
  if (cas.length) tls.ca = [...(trust ?? rootCertificates), ...cas];
  const cert = names.find((n) => n.endsWith('.cert') && names.includes(n.replace(/\.cert$/, '.key')));
  if (cert) { tls.cert = read(cert); tls.key = read(cert.replace(/\.cert$/, '.key')); }
  return tls;
}

export function endpointsFor(host: string, opts: EndpointOptions, forPull: boolean): Endpoint[] {
  const out: Endpoint[] = [];
  if (host === DOCKER_HUB && forPull) {
    for (const m of opts.mirrors) {
      const u = new URL(m);
      out.push({ host, bases: [new URL(`${u.protocol}//${u.host}`)], tls: tlsFor(u.host, opts.certsDir, !isInsecure(u.host, opts.insecure)), mirror: true });
    }
  }
  if (host === DOCKER_HUB) {
    out.push({ host, bases: [new URL(DOCKER_HUB_REGISTRY)], tls: tlsFor('registry-1.docker.io', opts.certsDir, true), mirror: false });
    return out;
  }
  const insecure = isInsecure(host, opts.insecure);
  const bases = [new URL(`https://${host}`), ...(insecure ? [new URL(`http://${host}`)] : [])];
  out.push({ host, bases, tls: tlsFor(host, opts.certsDir, !insecure), mirror: false });
  return out;
}
