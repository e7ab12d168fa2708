// A container's NetworkSettings as docker inspect shows them (ports, networks, the primary
// endpoint's address in the top-level fields).
import { createHash } from 'node:crypto';
import type { NetworkRecord } from './driver.js';
import type { SandboxRecord } from './network-store.js';

// Memoized: every container list and inspect shows it, and a sha256 per running container per
// list took 1.3 s of the event loop's CPU in 800 soak cycles. Bounded (cleared when large).
const sandboxIds = new Map<string, string>();
function sandboxId(id: string): string {
  let v = sandboxIds.get(id);
  if (v === undefined) {
    if (sandboxIds.size >= 4096) sandboxIds.clear();
    sandboxIds.set(id, (v = createHash('sha256').update(`sandbox:${id}`).digest('hex')));
  }
  return v;
}

/** API 1.44 DNSNames: the names the embedded DNS answers for (user-defined networks only), as dockerd lists them. */
function dnsNames(net: NetworkRecord, sb: SandboxRecord, containerId: string, aliases: string[]): string[] | null {
  if (['bridge', 'host', 'none'].includes(net.Name)) return null;
  return [...new Set([sb.name, ...aliases, containerId.slice(0, 12), sb.hostname].filter((n): n is string => Boolean(n)))];
}

/** NetworkSettings as docker inspect shows them. */
export function settingsView(sb: SandboxRecord, networks: Map<string, NetworkRecord>, containerId: string) {
  const running = Boolean(sb.netns) || sb.mode === 'host';
  const nets: Record<string, unknown> = {};
  for (const ep of sb.endpoints) {
    const net = networks.get(ep.networkId);
    if (!net) continue;
    const on = running && Boolean(ep.ip);
    const ipamConfig = ep.requestedIp || ep.requestedIp6
      ? { ...(ep.requestedIp ? { IPv4Address: ep.requestedIp } : {}), ...(ep.requestedIp6 ? { IPv6Address: ep.requestedIp6 } : {}) } : null;
    nets[net.Name] = {
      IPAMConfig: ipamConfig, Links: null, Aliases: ep.aliases.length ? ep.aliases : null,
      // A requested MAC shows from create on (dockerd keeps the endpoint config's MacAddress).
      MacAddress: on ? ep.mac : ep.requestedMac ?? '', DriverOpts: null, NetworkID: net.Id, EndpointID: running ? ep.id : '',
      Gateway: on ? ep.gateway : '', IPAddress: on ? ep.ip : '', IPPrefixLen: on ? ep.prefixLen : 0,
      IPv6Gateway: on && ep.ip6 ? ep.gateway6 : '', GlobalIPv6Address: on && ep.ip6 ? ep.ip6 : '', GlobalIPv6PrefixLen: on && ep.ip6 ? ep.prefixLen6 : 0,
      DNSNames: dnsNames(net, sb, containerId, ep.aliases),
    };
  }
  const primary = sb.endpoints[0];
  const p = primary && networks.get(primary.networkId) ? (nets[networks.get(primary.networkId)!.Name] as Record<string, unknown>) : undefined;
  const ports: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const b of running ? sb.ports ?? [] : []) {
    const key = `${b.containerPort}/${b.proto}`;
    (ports[key] ??= []).push({ HostIp: b.hostIp, HostPort: String(b.hostPort) });
  }
  return {
    Bridge: '', SandboxID: sb.netns ? sandboxId(containerId) : '', SandboxKey: sb.netns ?? '', HairpinMode: false,
    LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0, Ports: ports, SecondaryIPAddresses: null, SecondaryIPv6Addresses: null,
    EndpointID: (p?.EndpointID as string) ?? '', Gateway: (p?.Gateway as string) ?? '',
    GlobalIPv6Address: (p?.GlobalIPv6Address as string) ?? '', GlobalIPv6PrefixLen: (p?.GlobalIPv6PrefixLen as number) ?? 0,
    IPAddress: (p?.IPAddress as string) ?? '', IPPrefixLen: (p?.IPPrefixLen as number) ?? 0, IPv6Gateway: (p?.IPv6Gateway as string) ?? '',
    MacAddress: (p?.MacAddress as string) ?? '',
    Networks: nets,
  };
}

