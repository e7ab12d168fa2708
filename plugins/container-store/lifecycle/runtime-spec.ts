// From a container's record to what the runtime needs: its files (hostname, hosts, resolv.conf)
// and the OCI spec input, dockerd's defaults included.
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SpecInput, BindMount } from '../../exec-runc/oci-spec.js';
import { resolveUser } from '../../../lib/resolve-user.js';
import type { Container } from '../records/index.js';
import { lookupInitBinary } from './init-binary.js';
import type { RuntimeOptions } from './runtime-options.js';

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function parseBind(spec: string): BindMount {
  const [source, destination, mode = ''] = spec.split(':');
  if (!source || !destination || !source.startsWith('/') || !destination.startsWith('/')) {
    throw new Error(`invalid volume specification: '${spec}'`);
  }
  return { source, destination, readonly: mode.split(',').includes('ro') };
}

export async function specInputFor(c: Container, rootfs: string, dir: string, opts: RuntimeOptions = {}): Promise<SpecInput> {
  const hostname = c.Config.Hostname || c.Id.slice(0, 12);
  const files = { hostname: join(dir, 'hostname'), hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf') };
  await writeFile(files.hostname, `${hostname}\n`);
  await writeFile(files.hosts, `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\t${hostname}\n`);
  await copyFile('/etc/resolv.conf', files.resolvConf).catch(() => writeFile(files.resolvConf, ''));
  const env = [...(c.Config.Env ?? [])];
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH);
  env.push(`HOSTNAME=${hostname}`);
  if (c.Config.Tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
  const h = c.HostConfig as Record<string, any>;
  // HostConfig.Init (true/false) wins over the daemon's default; an init needs its own pid namespace.
  const withInit = (typeof h.Init === 'boolean' ? h.Init : Boolean(opts.init?.enabled)) && h.PidMode !== 'host';
  return {
    id: c.Id,
    rootfs,
    process: {
      args: [c.Path, ...c.Args],
      env,
      cwd: c.Config.WorkingDir || '/',
      user: await resolveUser(rootfs, c.Config.User || undefined),
      tty: Boolean(c.Config.Tty),
    },
    hostname,
    containerFiles: files,
    binds: (h.Binds ?? []).map(parseBind),
    readOnlyRootfs: Boolean(h.ReadonlyRootfs),
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
    cgroupsPath: `/berth/${c.Id}`,
    ...(withInit ? { init: await lookupInitBinary(opts.init?.path) } : {}),
  };
}
