// Real facts about this host for GET /info: OS, cgroups, kernel features, sysctls.
import { existsSync, readFileSync, readdirSync } from 'node:fs';

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
};

function osRelease(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of (read('/etc/os-release') ?? '').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) out[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
  }
  return out;
}

export interface CgroupFacts {
  version: '1' | '2';
  memoryLimit: boolean;
  swapLimit: boolean;
  kernelMemory: boolean;
  kernelMemoryTCP: boolean;
  cpuCfsPeriod: boolean;
  cpuCfsQuota: boolean;
  cpuShares: boolean;
  cpuSet: boolean;
  pidsLimit: boolean;
  oomKillDisable: boolean;
}

export function cgroupFacts(root = '/sys/fs/cgroup'): CgroupFacts {
  if (existsSync(`${root}/cgroup.controllers`)) {
    const ctl = (read(`${root}/cgroup.controllers`) ?? '').split(/\s+/);
    const has = (c: string) => ctl.includes(c);
    return {
      version: '2',
      memoryLimit: has('memory'),
      swapLimit: has('memory'),
      kernelMemory: false,
      kernelMemoryTCP: false,
      cpuCfsPeriod: has('cpu'),
      cpuCfsQuota: has('cpu'),
      cpuShares: has('cpu'),
      cpuSet: has('cpuset'),
      pidsLimit: has('pids'),
      oomKillDisable: false,
    };
  }
  const f = (p: string) => existsSync(`${root}/${p}`);
  return {
    version: '1',
    memoryLimit: f('memory/memory.limit_in_bytes'),
    swapLimit: f('memory/memory.memsw.limit_in_bytes'),
    kernelMemory: f('memory/memory.kmem.limit_in_bytes'),
    kernelMemoryTCP: f('memory/memory.kmem.tcp.limit_in_bytes'),
    cpuCfsPeriod: f('cpu/cpu.cfs_period_us'),
    cpuCfsQuota: f('cpu/cpu.cfs_quota_us'),
    cpuShares: f('cpu/cpu.shares'),
    cpuSet: f('cpuset/cpuset.cpus'),
    pidsLimit: f('pids/pids.max') || f('pids'),
    oomKillDisable: f('memory/memory.oom_control'),
  };
}

export function hostFacts() {
  const os = osRelease();
  const sysctl = (name: string) => read(`/proc/sys/${name.replace(/\./g, '/')}`) === '1';
  return {
    operatingSystem: os.PRETTY_NAME ?? 'Linux',
    osVersion: os.VERSION_ID ?? '',
    ipv4Forwarding: sysctl('net.ipv4.ip_forward'),
    bridgeNfIptables: sysctl('net.bridge.bridge-nf-call-iptables'),
    bridgeNfIp6tables: sysctl('net.bridge.bridge-nf-call-ip6tables'),
    seccomp: /^Seccomp:/m.test(read('/proc/self/status') ?? ''),
    cgroups: cgroupFacts(),
  };
}

export function openFileCount(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}
