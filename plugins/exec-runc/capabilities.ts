// Capability sets as dockerd computes them: the default set, "ALL", and --cap-add/--cap-drop.
import { invalid } from '../../core/plugin-api.js';

/** dockerd's default set (moby oci/caps/defaults.go). Inheritable stays empty (CVE-2022-24769). */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Every capability Linux defines up to CAP_CHECKPOINT_RESTORE (40), in number order. */
export const ALL_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

const ALL = 'ALL';

/** "net_admin", "CAP_NET_ADMIN" and "all" are accepted, as dockerd does; an unknown name is a 400. */
export function normalizeCapabilities(names: string[], field: string): string[] {
  return names.map((raw) => {
    const upper = raw.trim().toUpperCase();
    if (upper === ALL) return ALL;
    const name = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
    if (!ALL_CAPABILITIES.includes(name)) throw invalid(`${field}: unknown capability: "${name}"`);
    return name;
  });
}

/** The final bounding/effective/permitted set (moby caps.TweakCapabilities). */
export function tweakCapabilities(opts: { privileged?: boolean; capAdd?: string[]; capDrop?: string[]; hostCapabilities?: string[] }): string[] {
  // "All" is what the host can give: runc fails on a capability outside the daemon's bounding set.
  const all = opts.hostCapabilities ? ALL_CAPABILITIES.filter((c) => opts.hostCapabilities!.includes(c)) : ALL_CAPABILITIES;
  if (opts.privileged) return [...all];
  const add = normalizeCapabilities(opts.capAdd ?? [], 'CapAdd');
  const drop = normalizeCapabilities(opts.capDrop ?? [], 'CapDrop');
  let caps: string[];
  if (add.includes(ALL)) caps = all.filter((c) => !drop.includes(c));
  else if (drop.includes(ALL)) caps = add;
  else caps = [...DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c)), ...add];
  return [...new Set(caps)];
}
