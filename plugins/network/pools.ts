// Address pools for networks without a given subnet, picked as dockerd does: 172.17.0.0/16 to
// 172.31.0.0/16, then 192.168.0.0/20 blocks; never one that overlaps a host route or a network.
import { cidrString, overlaps, parseCidr, type Cidr } from './cidr.js';
import { invalid } from '../../core/plugin-api.js';
import { run } from '../../lib/host-cmd.js';

export function* candidatePools(): Generator<string> {
  for (let b = 17; b <= 31; b++) yield `172.${b}.0.0/16`;
  for (let c = 0; c < 256; c += 16) yield `192.168.${c}.0/20`;
}

/** Destinations of the host's IPv4 routes (all tables), except those through `ignoreDevs`. */
export async function hostRoutes(ignoreDevs: string[] = []): Promise<Cidr[]> {
  const out = await run('ip', ['-4', '-o', 'route', 'show', 'table', 'all']).catch(() => '');
  const routes: Cidr[] = [];
  for (const line of out.split('\n')) {
    const words = line.trim().split(/\s+/);
    const dev = words[words.indexOf('dev') + 1];
    let dest = words[0] === 'local' || words[0] === 'broadcast' || words[0] === 'unicast' ? words[1] : words[0];
    if (!dest || dest === 'default' || (words.includes('dev') && ignoreDevs.includes(dev))) continue;
    if (!dest.includes('/')) dest = `${dest}/32`;
    try { routes.push(parseCidr(dest)); } catch { /* not an IPv4 destination */ }
  }
  return routes;
}

export async function freePool(taken: string[], ignoreDevs: string[] = []): Promise<string> {
  const busy = [...taken.map((t) => parseCidr(t)), ...(await hostRoutes(ignoreDevs))];
  for (const p of candidatePools()) {
    const c = parseCidr(p);
    if (!busy.some((b) => overlaps(b, c))) return cidrString(c);
  }
  throw invalid('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
}
