// From a container's record to what the runtime needs: its /etc/hostname and its runtime-neutral
// description (the exec contract's ContainerSpec); the exec driver turns that into its runtime's
// own configuration and defaults. Other plugins add theirs through the starting hook (the network
// plugin /etc/hosts and /etc/resolv.conf and the namespace to join).
import { writeFile } from 'node:fs/promises';
import { hostname as hostHostname } from 'node:os';
import { join } from 'node:path';
import type { ContainerSpec } from '../../exec/index.js';
import { resolveUser } from '../../../lib/resolve-user.js';
import type { Container } from '../records/index.js';
import { lookupInitBinary } from './init-binary.js';
import { cgroupsPathOf } from './namespaces.js';
import { containerEnv } from './process-env.js';
import type { RuntimeOptions } from './runtime-options.js';

export { DEFAULT_PATH } from './process-env.js';


/**
 * The hostname a container gets, as dockerd gives it: the one asked for, else the host's with
 * --network host, else the short ID. With --network container:X it is X's (dockerd copies it into
 * the record at each start), so the caller passes X's record.
 */
export function networkHostname(c: Container, peer?: Container): string {
  if (peer) c.Config.Hostname = peer.Config.Hostname || peer.Id.slice(0, 12);
  return c.Config.Hostname || (c.HostConfig.NetworkMode === 'host' ? hostHostname() : c.Id.slice(0, 12));
}

/** The container whose network namespace `c` joins (--network container:X), if any. */
export function networkPeerRef(c: Container): string | undefined {
  const mode = c.HostConfig.NetworkMode ?? '';
  return mode.startsWith('container:') ? mode.slice('container:'.length) : undefined;
}

export async function containerSpecFor(c: Container, rootfs: string, dir: string, opts: RuntimeOptions = {}, peer?: Container): Promise<ContainerSpec> {
  const hostname = networkHostname(c, peer);
  const hostnameFile = join(dir, 'hostname');
  await writeFile(hostnameFile, `${hostname}\n`);
  const env = containerEnv(c, Boolean(c.Config.Tty));
  const h = c.HostConfig as Record<string, any>;
  // HostConfig.Init (true/false) wins over the daemon's default; an init needs its own pid namespace.
  const withInit = (typeof h.Init === 'boolean' ? h.Init : Boolean(opts.init?.enabled)) && !h.PidMode;
  const ulimits = ((h.Ulimits ?? []) as { Name: string; Soft: number; Hard: number }[]).map((u) => ({ name: u.Name, soft: u.Soft, hard: u.Hard }));
  return {
    id: c.Id,
    process: {
      args: [c.Path, ...c.Args],
      env,
      cwd: c.Config.WorkingDir || '/',
      user: await resolveUser(rootfs, c.Config.User || undefined, (h.GroupAdd as string[] | null) ?? []),
      tty: Boolean(c.Config.Tty),
      ...(ulimits.length ? { ulimits } : {}),
    },
    hostname,
    root: { path: rootfs, readonly: Boolean(h.ReadonlyRootfs) },
    // The container's own file, bound over the image's (read-only with --read-only, as dockerd).
    // -v, --mount, --tmpfs and volumes are the volume plugin's (through the starting hook).
    mounts: [{ destination: '/etc/hostname', type: 'bind', source: hostnameFile, readonly: Boolean(h.ReadonlyRootfs) }],
    ...(h.PidMode === 'host' ? { pidMode: 'host' as const } : {}),
    ...(h.IpcMode === 'host' ? { ipcMode: 'host' as const } : {}),
    privileged: Boolean(h.Privileged),
    capAdd: h.CapAdd ?? [],
    capDrop: h.CapDrop ?? [],
    securityOpt: h.SecurityOpt ?? [],
    ...(h.ShmSize ? { shmSize: h.ShmSize } : {}),
    resources: {
      ...(h.Memory ? { memory: h.Memory } : {}),
      ...(h.MemorySwap ? { memorySwap: h.MemorySwap } : {}),
      ...(h.NanoCpus ? { nanoCpus: h.NanoCpus } : {}),
      ...(h.CpuShares ? { cpuShares: h.CpuShares } : {}),
      ...(h.CpuQuota ? { cpuQuota: h.CpuQuota } : {}),
      ...(h.CpuPeriod ? { cpuPeriod: h.CpuPeriod } : {}),
      ...(h.CpusetMems ? { cpusetMems: h.CpusetMems } : {}),
      ...(h.CpusetCpus ? { cpusetCpus: h.CpusetCpus } : {}),
      ...(h.PidsLimit ? { pidsLimit: h.PidsLimit } : {}),
      ...(h.BlkioWeight ? { blkioWeight: h.BlkioWeight } : {}),
    },
    ...(h.NetworkMode === 'host' ? { network: 'host' } : {}),
    cgroupsPath: cgroupsPathOf(c),
    ...(withInit ? { init: await lookupInitBinary(opts.init?.path) } : {}),
  };
}
