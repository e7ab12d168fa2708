// A container's published ports from its HostConfig: -p [ip:][host:]container[/proto] arrives
// as PortBindings; -P publishes every exposed port without a binding on a random host port.
import { invalid } from '../../core/plugin-api.js';
import type { PortBinding } from './driver.js';

interface ContainerPorts {
  Config: { ExposedPorts?: Record<string, unknown> | null };
  HostConfig: Record<string, unknown>;
}

function parseKey(key: string): { containerPort: number; proto: 'tcp' | 'udp' } {
  const [port, proto = 'tcp'] = key.split('/');
  const n = Number(port);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw invalid(`invalid port specification: "${key}"`);
  if (proto !== 'tcp' && proto !== 'udp') throw invalid(`invalid proto: ${proto}`);
  return { containerPort: n, proto };
}

export function portBindingsOf(c: ContainerPorts): PortBinding[] {
  const bindings = (c.HostConfig.PortBindings ?? {}) as Record<string, { HostIp?: string; HostPort?: string }[] | null>;
  const out: PortBinding[] = [];
  for (const [key, list] of Object.entries(bindings)) {
    const { containerPort, proto } = parseKey(key);
    for (const b of list?.length ? list : [{}]) {
      const hostPort = b.HostPort ? Number(b.HostPort) : 0;
      if (!Number.isInteger(hostPort) || hostPort < 0 || hostPort > 65535) throw invalid(`invalid hostPort: ${b.HostPort}`);
      out.push({ proto, containerPort, hostIp: b.HostIp ?? '', hostPort });
    }
  }
  if (c.HostConfig.PublishAllPorts) {
    for (const key of Object.keys(c.Config.ExposedPorts ?? {})) {
      if (key in bindings) continue;
      out.push({ ...parseKey(key), hostIp: '', hostPort: 0 });
    }
  }
  return out;
}
