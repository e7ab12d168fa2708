// Builds a container's OCI runtime spec (config.json) with dockerd's secure defaults: its
// capability set, seccomp profile, masked and read-only /proc and /sys paths, device
// whitelist, default mounts and rlimits, from the runtime-neutral ContainerSpec the container
// store hands the driver. A pure function: host facts come in as input.
import { release } from 'node:os';
import type { ContainerResources, ContainerSpec, MountSpec } from '../exec/index.js';
import { invalid } from '../../core/plugin-api.js';
import { tweakCapabilities } from './capabilities.js';
import { DEFAULT_SECCOMP_PROFILE, goArch, parseSeccompProfile, toOciSeccomp } from './seccomp-profile.js';

export interface HostDevice { path: string; type: 'c' | 'b'; major: number; minor: number; fileMode: number; uid: number; gid: number }

/** What this host allows, as create() reads it (host-limits.ts); defaults are this host's. */
export interface HostFacts {
  arch?: string;
  kernel?: string;
  swapLimit?: boolean;
  /** Device nodes a privileged container gets. */
  devices?: HostDevice[];
  /** Caps RLIMIT_NOFILE (see hostNofileLimit). */
  maxNofile?: number;
  /** The daemon's bounding set (hostBoundingCapabilities): what "all capabilities" means here. */
  capabilities?: string[];
}

export const INIT_DESTINATION = '/sbin/docker-init';
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
export const DEFAULT_NOFILE = 1048576;
export const CPU_PERIOD = 100000;

// moby oci/defaults.go (HEAD): /proc/asound and /proc/interrupts moved from read-only to masked
// there for the power side channel advisories; we follow HEAD.
export const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

type Mount = { destination: string; type: string; source: string; options: string[] };

/** The config.json runc and crun read (the parts this driver fills). */
export type OciSpec = Record<string, unknown> & {
  ociVersion: string; process: Record<string, unknown>; root: { path: string; readonly: boolean };
  linux: Record<string, unknown> & { cgroupsPath: string };
};

function defaultMounts(shmSize: number, privileged: boolean): Mount[] {
  const ro = privileged ? [] : ['ro'];
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: [...ro, 'nosuid', 'noexec', 'nodev'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [...ro, 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSize}`] },
  ];
}

// The devices cgroup: deny everything, then allow what runc creates in /dev (moby's DefaultLinuxSpec).
const DEFAULT_DEVICE_RULES = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  ...[[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 1], [5, 2]].map(([major, minor]) => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
  { allow: true, type: 'c', major: 136, access: 'rwm' },
];

/** Parses --security-opt values this driver understands; others (apparmor, label) are refused with a 400. */
function parseSecurityOpts(opts: string[]): { noNewPrivileges: boolean; seccomp: 'default' | 'unconfined' | string } {
  let noNewPrivileges = false;
  let seccomp = 'default';
  for (const opt of opts) {
    const eq = opt.indexOf('=');
    const sep = eq < 0 ? opt.indexOf(':') : eq;
    const key = sep < 0 ? opt : opt.slice(0, sep);
    const value = sep < 0 ? undefined : opt.slice(sep + 1);
    if (key === 'no-new-privileges') {
      if (value !== undefined && value !== 'true' && value !== 'false') throw invalid(`invalid --security-opt 2: "${opt}"`);
      noNewPrivileges = value !== 'false';
    } else if (key === 'seccomp' && value !== undefined) seccomp = value;
    else if (key === 'apparmor' || key === 'label') continue; // no AppArmor/SELinux on this driver: accepted, not applied
    else throw invalid(`invalid --security-opt 1: "${opt}"`);
  }
  return { noNewPrivileges, seccomp };
}

function ociMount(m: MountSpec): Mount {
  if (m.type === 'tmpfs') return { destination: m.destination, type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', ...(m.options ?? [])] };
  return { destination: m.destination, type: 'bind', source: m.source, options: ['rbind', m.propagation ?? 'rprivate', ...(m.readonly ? ['ro'] : [])] };
}

function userMounts(c: ContainerSpec): Mount[] {
  const mounts = c.mounts.map(ociMount);
  // --ipc host: the host's /dev/shm, as dockerd binds it.
  if (c.ipcMode === 'host') mounts.push({ destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] });
  // Parents before children (moby sortMounts); a user mount at a default's place replaces it.
  return mounts.sort((a, b) => a.destination.split('/').length - b.destination.split('/').length);
}

function resources(r: ContainerResources, swapLimit: boolean, privileged: boolean) {
  const out: Record<string, unknown> = { devices: privileged ? [{ allow: true, access: 'rwm' }] : DEFAULT_DEVICE_RULES };
  if (r.memory) {
    const memory: Record<string, number> = { limit: r.memory };
    if (swapLimit) memory.swap = r.memorySwap === -1 ? -1 : r.memorySwap || r.memory * 2;
    out.memory = memory;
  }
  const cpu: Record<string, unknown> = {};
  if (r.nanoCpus) {
    cpu.period = CPU_PERIOD;
    cpu.quota = Math.round((r.nanoCpus * CPU_PERIOD) / 1e9);
  } else {
    if (r.cpuQuota) cpu.quota = r.cpuQuota;
    if (r.cpuPeriod) cpu.period = r.cpuPeriod;
  }
  if (r.cpuShares) cpu.shares = r.cpuShares;
  if (r.cpusetCpus) cpu.cpus = r.cpusetCpus;
  if (r.cpusetMems) cpu.mems = r.cpusetMems;
  if (Object.keys(cpu).length) out.cpu = cpu;
  if (r.pidsLimit && r.pidsLimit > 0) out.pids = { limit: r.pidsLimit };
  if (r.blkioWeight) out.blockIO = { weight: r.blkioWeight };
  return out;
}

function rlimits(c: ContainerSpec, host: HostFacts) {
  const nofile = Math.min(DEFAULT_NOFILE, host.maxNofile ?? DEFAULT_NOFILE);
  const out = new Map<string, { type: string; soft: number; hard: number }>([['RLIMIT_NOFILE', { type: 'RLIMIT_NOFILE', soft: nofile, hard: nofile }]]);
  for (const u of c.process.ulimits ?? []) {
    const type = `RLIMIT_${u.name.toUpperCase()}`;
    out.set(type, { type, soft: u.soft, hard: u.hard });
  }
  return [...out.values()];
}

/** The config.json for a container: the description as runc reads it, with this driver's defaults. */
export function buildOciSpec(c: ContainerSpec, host: HostFacts = {}): OciSpec {
  const privileged = c.privileged ?? false;
  const security = parseSecurityOpts(c.securityOpt ?? []);
  const caps = tweakCapabilities({ privileged, capAdd: c.capAdd, capDrop: c.capDrop, hostCapabilities: host.capabilities });
  const user = c.process.user;
  const custom = userMounts(c);
  if (c.init) custom.push({ destination: INIT_DESTINATION, type: 'bind', source: c.init, options: ['bind', 'ro'] });
  const taken = new Set(custom.map((m) => m.destination));
  const mounts = [...defaultMounts(c.shmSize || DEFAULT_SHM_SIZE, privileged).filter((m) => !taken.has(m.destination)), ...custom];

  const namespaces: { type: string; path?: string }[] = [];
  // --pid/--ipc container:<id>: the other container's namespace, by path (since 2.2.0).
  if (c.pidNamespace) namespaces.push({ type: 'pid', path: c.pidNamespace });
  else if (c.pidMode !== 'host') namespaces.push({ type: 'pid' });
  if (c.ipcNamespace) namespaces.push({ type: 'ipc', path: c.ipcNamespace });
  else if (c.ipcMode !== 'host') namespaces.push({ type: 'ipc' });
  namespaces.push({ type: 'uts' }, { type: 'mount' });
  if (c.network !== 'host') namespaces.push(c.network ? { type: 'network', path: c.network } : { type: 'network' });

  const linux: OciSpec['linux'] = {
    namespaces,
    resources: resources(c.resources ?? {}, host.swapLimit ?? true, privileged),
    cgroupsPath: c.cgroupsPath,
  };
  if (privileged) {
    linux.devices = (host.devices ?? []).map((d) => ({ ...d }));
  } else {
    linux.maskedPaths = MASKED_PATHS;
    linux.readonlyPaths = READONLY_PATHS;
    if (security.seccomp !== 'unconfined') {
      const profile = security.seccomp === 'default' ? DEFAULT_SECCOMP_PROFILE : parseSeccompProfile(security.seccomp);
      linux.seccomp = toOciSeccomp(profile, { capabilities: caps, arch: host.arch ?? goArch(), kernel: host.kernel ?? release() });
    }
  }

  const proc: Record<string, unknown> = {
    terminal: c.process.tty,
    user: { uid: user.uid, gid: user.gid, ...(user.additionalGids?.length ? { additionalGids: user.additionalGids } : {}) },
    args: c.init ? [INIT_DESTINATION, '--', ...c.process.args] : c.process.args,
    env: c.process.env,
    cwd: c.process.cwd || '/',
    capabilities: { bounding: caps, effective: caps, permitted: caps },
    // Node raises its own NOFILE at start-up: set it explicitly rather than let runc inherit ours.
    rlimits: rlimits(c, host),
    oomScoreAdj: 0,
  };
  if (security.noNewPrivileges) proc.noNewPrivileges = true;

  return {
    ociVersion: '1.0.2-dev',
    process: proc,
    root: { path: c.root.path, readonly: c.root.readonly },
    hostname: c.hostname || c.id.slice(0, 12),
    mounts,
    linux,
  };
}
