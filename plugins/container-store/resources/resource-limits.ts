// A container's resource limits as dockerd checks them (verifyPlatformContainerResources),
// defaults them at create (adaptContainerSettings), merges a docker update into them
// (Container.UpdateContainer) and turns them into the runtime's live update.
import { availableParallelism } from 'node:os';
import { BerthError, conflict, invalid } from '../../../core/plugin-api.js';
import type { LinuxResources } from '../../exec/index.js';
import type { HostConfig } from '../records/index.js';

export interface ResourceFields {
  Memory?: number;
  MemorySwap?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuQuota?: number;
  CpuPeriod?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number | null;
  BlkioWeight?: number;
}

/** POST /containers/{id}/update's body: resources, and a restart policy. */
export type UpdateRequest = ResourceFields & { RestartPolicy?: { Name?: string; MaximumRetryCount?: number } };

const MIN_MEMORY = 6 * 1024 * 1024;
const MIN_CPU_SHARES = 2;
const MAX_CPU_SHARES = 262144;
const CPU_PERIOD = 100000;

/** "0-2,4" → [0, 1, 2, 4]; undefined when malformed. */
function parseCpuList(list: string): number[] | undefined {
  const out: number[] = [];
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const [a, b] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (b < a) return undefined;
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

/** Throws dockerd's 400 for limits it refuses; `update` skips the checks only create makes. */
export function checkResources(r: ResourceFields, opts: { update: boolean }): void {
  const n = (v: unknown) => (typeof v === 'number' ? v : 0);
  const memory = n(r.Memory);
  const swap = n(r.MemorySwap);
  if (memory !== 0 && memory < MIN_MEMORY) throw invalid('Minimum memory limit allowed is 6MB');
  if (memory > 0 && swap > 0 && swap < memory) throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (memory === 0 && swap > 0 && !opts.update) throw invalid('You should always set the Memory limit when using Memoryswap limit, see usage');
  // Go's runtime.NumCPU, as dockerd counts: the CPUs this process may run on. (os.cpus() read
  // /proc/cpuinfo synchronously on every create.)
  const hostCpus = availableParallelism();
  if (n(r.NanoCpus) > 0 && n(r.CpuPeriod) > 0) throw invalid('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (n(r.NanoCpus) > 0 && n(r.CpuQuota) > 0) throw invalid('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (n(r.NanoCpus) < 0 || n(r.NanoCpus) > hostCpus * 1e9) {
    throw invalid(`Range of CPUs is from 0.01 to ${hostCpus}.00, as there are only ${hostCpus} CPUs available`);
  }
  const period = n(r.CpuPeriod);
  if (period !== 0 && (period < 1000 || period > 1000000)) throw invalid('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if (n(r.CpuQuota) > 0 && n(r.CpuQuota) < 1000) throw invalid('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (r.CpusetCpus) {
    const wanted = parseCpuList(r.CpusetCpus);
    if (!wanted) throw invalid(`Invalid value ${r.CpusetCpus} for cpuset cpus`);
    if (wanted.some((c) => c >= hostCpus)) throw invalid(`Requested CPUs are not available - requested ${r.CpusetCpus}, available: 0-${hostCpus - 1}`);
  }
  const weight = n(r.BlkioWeight);
  if (weight > 0 && (weight < 10 || weight > 1000)) throw invalid('Range of blkio weight is from 10 to 1000');
}

const clampShares = (v: number) => Math.min(MAX_CPU_SHARES, Math.max(MIN_CPU_SHARES, v));

/** A create's HostConfig, checked and with dockerd's defaults: swap twice the memory, shares in range. */
export function adaptCreateResources<T extends HostConfig>(h: T): T {
  const r = h as T & ResourceFields;
  checkResources(r, { update: false });
  const out: T & ResourceFields = { ...r };
  if (r.Memory && r.Memory > 0 && !r.MemorySwap) out.MemorySwap = r.Memory * 2;
  if (r.CpuShares) out.CpuShares = clampShares(r.CpuShares);
  if (typeof r.PidsLimit === 'number' && r.PidsLimit <= 0) out.PidsLimit = null;
  return out;
}

const cannotUpdate = (id: string, err: BerthError) => new BerthError(err.code, `Cannot update container ${id}: ${err.message}`);

/** The HostConfig after a docker update (0 or unset leaves a field as it is), or dockerd's refusal. */
export function mergeUpdate(id: string, current: HostConfig, req: UpdateRequest): HostConfig {
  const cur = current as HostConfig & ResourceFields;
  const n = (v: unknown) => (typeof v === 'number' ? v : 0);
  const refuse = (msg: string) => cannotUpdate(id, conflict(msg));
  // NanoCpus sets period and quota itself: once one way is used, the other is refused.
  if (n(req.NanoCpus) > 0 && n(cur.CpuPeriod) > 0) throw refuse('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
  if (n(req.NanoCpus) > 0 && n(cur.CpuQuota) > 0) throw refuse('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
  if (n(req.CpuPeriod) > 0 && n(cur.NanoCpus) > 0) throw refuse('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
  if (n(req.CpuQuota) > 0 && n(cur.NanoCpus) > 0) throw refuse('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
  const next: HostConfig & ResourceFields = { ...cur };
  for (const k of ['BlkioWeight', 'NanoCpus', 'CpuPeriod', 'CpuQuota'] as const) if (n(req[k]) !== 0) next[k] = req[k];
  if (n(req.CpuShares) !== 0) next.CpuShares = clampShares(n(req.CpuShares));
  if (req.CpusetCpus) next.CpusetCpus = req.CpusetCpus;
  if (req.CpusetMems) next.CpusetMems = req.CpusetMems;
  if (n(req.Memory) !== 0) {
    if (n(req.Memory) > n(cur.MemorySwap) && n(req.MemorySwap) === 0) {
      throw refuse('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    }
    next.Memory = req.Memory;
  }
  if (n(req.MemorySwap) !== 0) next.MemorySwap = req.MemorySwap;
  if (typeof req.PidsLimit === 'number') next.PidsLimit = req.PidsLimit > 0 ? req.PidsLimit : null;
  if (req.RestartPolicy?.Name) {
    if (cur.AutoRemove && req.RestartPolicy.Name !== 'no') throw refuse('Restart policy cannot be updated because AutoRemove is enabled for the container');
    next.RestartPolicy = { Name: req.RestartPolicy.Name, MaximumRetryCount: req.RestartPolicy.MaximumRetryCount ?? 0 };
  }
  return next;
}

/** What the runtime should change on a running container after `req` made `next`. */
export function liveResources(next: HostConfig, req: UpdateRequest): LinuxResources {
  const h = next as HostConfig & ResourceFields;
  const out: LinuxResources = {};
  // Memory and swap go together: runc orders the two writes so neither is refused.
  if ((req.Memory || req.MemorySwap) && h.Memory) out.memory = { limit: h.Memory, ...(h.MemorySwap ? { swap: h.MemorySwap } : {}) };
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (req.CpuShares) cpu.shares = h.CpuShares;
  if (req.NanoCpus && h.NanoCpus) Object.assign(cpu, { period: CPU_PERIOD, quota: Math.round((h.NanoCpus * CPU_PERIOD) / 1e9) });
  if (req.CpuQuota) cpu.quota = h.CpuQuota;
  if (req.CpuPeriod) cpu.period = h.CpuPeriod;
  if (req.CpusetCpus) cpu.cpus = h.CpusetCpus;
  if (req.CpusetMems) cpu.mems = h.CpusetMems;
  if (Object.keys(cpu).length) out.cpu = cpu;
  if (typeof req.PidsLimit === 'number') out.pids = { limit: req.PidsLimit > 0 ? req.PidsLimit : -1 };
  if (req.BlkioWeight) out.blockIO = { weight: h.BlkioWeight };
  return out;
}
