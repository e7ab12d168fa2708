// The host side of a bridge network: the Linux bridge, its address, and an endpoint's veth pair
// (made from inside the container's namespace, its peer sent out to the daemon's).
import { existsSync, readdirSync } from 'node:fs';
import type { EndpointRecord } from '../network/index.js';
import { ipBatch, run } from '../../lib/host-cmd.js';

export const bridgeExists = (name: string) => existsSync(`/sys/class/net/${name}`);

/** The host end of an endpoint's pair: a name derived from the endpoint (found again after a restart). */
export const hostVeth = (ep: EndpointRecord) => `veth${ep.id.slice(0, 11)}`;

/** The bridge's first IPv4 address as "a.b.c.d/len", if any. */
export async function bridgeAddress(name: string): Promise<string | undefined> {
  const out = await run('ip', ['-4', '-o', 'addr', 'show', 'dev', name]).catch(() => '');
  return /inet (\S+)/.exec(out)?.[1];
}

/** Creates the bridge when missing (true if made now); sets its address (and its IPv6 gateway
 * address on a dual-stack network, without duplicate address detection: the address is the
 * network's own) and brings it up. */
export async function ensureBridge(name: string, gatewayCidr: string, mtu: number, create: boolean, gateway6Cidr?: string): Promise<boolean> {
  const made = create && !bridgeExists(name);
  const lines: string[] = [];
  if (made) lines.push(`link add ${name} mtu ${mtu} type bridge`);
  const addrs = made ? '' : await run('ip', ['-o', 'addr', 'show', 'dev', name]);
  if (!addrs.includes(`inet ${gatewayCidr} `)) lines.push(`addr add ${gatewayCidr} dev ${name}`);
  if (gateway6Cidr && !addrs.includes(`inet6 ${gateway6Cidr} `)) lines.push(`addr add ${gateway6Cidr} dev ${name} nodad`);
  lines.push(`link set ${name} up`);
  await ipBatch(lines);
  return made;
}

/** Deletes the bridge unless an interface is still attached (another daemon's container on a
 * shared berth0): true when it is gone. */
export async function deleteBridge(name: string): Promise<boolean> {
  if (!bridgeExists(name)) return true;
  if (readdirSync(`/sys/class/net/${name}/brif`).length) return false;
  await run('ip', ['link', 'del', name]);
  return true;
}

export async function addVeth(ep: EndpointRecord, netns: string, bridge: string, ifName: string, mtu: number, defaultRoute: boolean): Promise<void> {
  const peer = hostVeth(ep);
  await ipBatch([
    `link add ${ifName} mtu ${mtu} address ${ep.mac} type veth peer name ${peer} mtu ${mtu} netns ${process.pid}`,
    `addr add ${ep.ip}/${ep.prefixLen} dev ${ifName}`,
    ...(ep.ip6 ? [`addr add ${ep.ip6}/${ep.prefixLen6} dev ${ifName} nodad`] : []),
    `link set ${ifName} up`,
    ...(defaultRoute ? [`route add default via ${ep.gateway} dev ${ifName}`] : []),
    ...(defaultRoute && ep.ip6 && ep.gateway6 ? [`route add ::/0 via ${ep.gateway6} dev ${ifName}`] : []),
  ], netns);
  try {
    await ipBatch([`link set ${peer} master ${bridge} up`]);
  } catch (err) {
    await run('ip', ['link', 'del', peer]).catch(() => {});
    throw err;
  }
}

export async function removeVeth(ep: EndpointRecord): Promise<void> {
  if (existsSync(`/sys/class/net/${hostVeth(ep)}`)) await run('ip', ['link', 'del', hostVeth(ep)]).catch(() => {});
}
