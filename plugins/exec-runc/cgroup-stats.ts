// A container's figures read straight from its cgroup files, v1 or v2. We read the files rather
// than run `runc events --stats` because docker stats samples every container once a second: a
// few small reads cost far less than a process per sample, and the files are what runc reads too.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlkioEntry, ContainerStats } from '../exec/index.js';
import type { CgroupLayout } from './cgroup-paths.js';

// USER_HZ: cpuacct.stat counts in ticks of 1/100 s on every Linux architecture Docker runs on.
const NS_PER_TICK = 1e7;

async function text(path: string | undefined): Promise<string> {
  return path ? readFile(path, 'utf8').catch(() => '') : '';
}

async function num(path: string | undefined): Promise<number> {
  const v = Number((await text(path)).trim());
  return Number.isFinite(v) ? v : 0;
}

/** A "max" or missing limit is undefined. */
async function limit(path: string | undefined): Promise<number | undefined> {
  const t = (await text(path)).trim();
  return t === '' || t === 'max' ? undefined : Number(t);
}

/** "key value" lines (memory.stat, cpu.stat, cpuacct.stat). */
export function keyValues(body: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of body.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** cgroup v1 blkio files: "8:0 Read 4096" lines and a "Total N" line (left out). */
export function parseBlkioV1(body: string): BlkioEntry[] {
  return body.split('\n').flatMap((line) => {
    const m = /^(\d+):(\d+)\s+(\S+)\s+(\d+)$/.exec(line.trim());
    return m ? [{ major: Number(m[1]), minor: Number(m[2]), op: m[3], value: Number(m[4]) }] : [];
  });
}

/** cgroup v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0"; ops named as dockerd does. */
export function parseIoStatV2(body: string): { bytes: BlkioEntry[]; ios: BlkioEntry[] } {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of body.split('\n')) {
    const [dev, ...fields] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const kv = Object.fromEntries(fields.map((f) => f.split('=')).map(([k, v]) => [k, Number(v)]));
    const at = { major: Number(m[1]), minor: Number(m[2]) };
    bytes.push({ ...at, op: 'read', value: kv.rbytes ?? 0 }, { ...at, op: 'write', value: kv.wbytes ?? 0 });
    ios.push({ ...at, op: 'read', value: kv.rios ?? 0 }, { ...at, op: 'write', value: kv.wios ?? 0 });
  }
  return { bytes, ios };
}

async function statsV1(dirs: Extract<CgroupLayout, { version: 1 }>['dirs'], pid: number): Promise<ContainerStats> {
  const f = (ctrl: keyof typeof dirs, name: string) => (dirs[ctrl] ? join(dirs[ctrl]!, name) : undefined);
  const acct = keyValues(await text(f('cpuacct', 'cpuacct.stat')));
  const cpuStat = keyValues(await text(f('cpu', 'cpu.stat')));
  const perCpu = (await text(f('cpuacct', 'cpuacct.usage_percpu'))).trim().split(/\s+/).filter(Boolean).map(Number);
  // CFQ's own counters where the kernel has them, else the throttle layer's (containerd's order).
  const cfq = (await text(f('blkio', 'blkio.io_service_bytes_recursive'))) !== '';
  const blk = cfq ? 'blkio.' : 'blkio.throttle.';
  return {
    cgroupVersion: 1,
    pid,
    cpu: {
      total: await num(f('cpuacct', 'cpuacct.usage')),
      perCpu,
      user: (acct.user ?? 0) * NS_PER_TICK,
      system: (acct.system ?? 0) * NS_PER_TICK,
      throttling: { periods: cpuStat.nr_periods ?? 0, throttledPeriods: cpuStat.nr_throttled ?? 0, throttledTime: cpuStat.throttled_time ?? 0 },
    },
    memory: {
      usage: await num(f('memory', 'memory.usage_in_bytes')),
      limit: await limit(f('memory', 'memory.limit_in_bytes')),
      maxUsage: await num(f('memory', 'memory.max_usage_in_bytes')),
      failcnt: await num(f('memory', 'memory.failcnt')),
      stats: keyValues(await text(f('memory', 'memory.stat'))),
    },
    pids: { current: await num(f('pids', 'pids.current')), limit: await limit(f('pids', 'pids.max')) },
    blkio: {
      ioServiceBytesRecursive: parseBlkioV1(await text(f('blkio', `${blk}io_service_bytes_recursive`))),
      ioServicedRecursive: parseBlkioV1(await text(f('blkio', `${blk}io_serviced_recursive`))),
    },
  };
}

async function statsV2(dir: string, pid: number): Promise<ContainerStats> {
  const cpu = keyValues(await text(join(dir, 'cpu.stat')));
  const io = parseIoStatV2(await text(join(dir, 'io.stat')));
  return {
    cgroupVersion: 2,
    pid,
    cpu: {
      total: (cpu.usage_usec ?? 0) * 1000,
      user: (cpu.user_usec ?? 0) * 1000,
      system: (cpu.system_usec ?? 0) * 1000,
      throttling: { periods: cpu.nr_periods ?? 0, throttledPeriods: cpu.nr_throttled ?? 0, throttledTime: (cpu.throttled_usec ?? 0) * 1000 },
    },
    memory: {
      usage: await num(join(dir, 'memory.current')),
      limit: await limit(join(dir, 'memory.max')),
      stats: keyValues(await text(join(dir, 'memory.stat'))),
    },
    pids: { current: await num(join(dir, 'pids.current')), limit: await limit(join(dir, 'pids.max')) },
    blkio: { ioServiceBytesRecursive: io.bytes, ioServicedRecursive: io.ios },
  };
}

export function readCgroupStats(layout: CgroupLayout, pid: number): Promise<ContainerStats> {
  return layout.version === 2 ? statsV2(layout.dir, pid) : statsV1(layout.dirs, pid);
}

/** Every pid in a cgroup and the cgroups below it (a privileged container may make its own). */
export async function cgroupPids(dir: string): Promise<number[]> {
  const own = (await text(join(dir, 'cgroup.procs'))).split('\n').filter(Boolean).map(Number);
  const subs = (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory());
  const nested = await Promise.all(subs.map((e) => cgroupPids(join(dir, e.name))));
  return [...own, ...nested.flat()];
}

/** The folder whose cgroup.procs lists the container's processes. */
export function procsDir(layout: CgroupLayout): string | undefined {
  return layout.version === 2 ? layout.dir : layout.dirs.pids ?? layout.dirs.memory ?? layout.dirs.cpu;
}
