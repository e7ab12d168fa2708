// docker stats' JSON (types.StatsJSON) from a driver's raw cgroup figures, the host's CPU time
// (/proc/stat, which the CLI divides by) and the container's interfaces (/proc/PID/net/dev).
import { readFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import type { BlkioEntry, ContainerStats, ExecDriver } from '../../exec/index.js';
import { ZERO_TIME, type Container } from '../records/index.js';

// USER_HZ ticks in /proc/stat are 1/100 s.
const NS_PER_TICK = 1e7;

export interface NetworkStats {
  rx_bytes: number; rx_packets: number; rx_errors: number; rx_dropped: number;
  tx_bytes: number; tx_packets: number; tx_errors: number; tx_dropped: number;
}

/** One reading of a running container. */
export interface StatsSample {
  read: string;
  raw: ContainerStats;
  systemCpu: number;
  onlineCpus: number;
  networks?: Record<string, NetworkStats>;
}

/** The host's CPU time in ns as dockerd counts it (user..softirq of the "cpu" line) and the online CPUs. */
export function parseProcStat(body: string): { systemCpu: number; onlineCpus: number } {
  let systemCpu = 0;
  let onlineCpus = 0;
  for (const line of body.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'cpu') systemCpu = f.slice(1, 8).reduce((a, v) => a + Number(v), 0) * NS_PER_TICK;
    else if (/^cpu\d+$/.test(f[0])) onlineCpus++;
  }
  return { systemCpu, onlineCpus };
}

/** /proc/net/dev of the container's namespace; the loopback is not a network of the container. */
export function parseNetDev(body: string): Record<string, NetworkStats> {
  const out: Record<string, NetworkStats> = {};
  for (const line of body.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const v = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (name === 'lo' || v.length < 16) continue;
    out[name] = {
      rx_bytes: v[0], rx_packets: v[1], rx_errors: v[2], rx_dropped: v[3],
      tx_bytes: v[8], tx_packets: v[9], tx_errors: v[10], tx_dropped: v[11],
    };
  }
  return out;
}

/** A reading now, or undefined when the container is not running (its cgroup is gone). */
export async function takeSample(driver: ExecDriver, c: Container): Promise<StatsSample | undefined> {
  let raw: ContainerStats;
  try {
    raw = await driver.stats(c.Id);
  } catch {
    return undefined;
  }
  const host = parseProcStat(await readFile('/proc/stat', 'utf8'));
  let networks: Record<string, NetworkStats> | undefined;
  if (c.HostConfig.NetworkMode !== 'host' && raw.pid > 0) {
    const net = parseNetDev(await readFile(`/proc/${raw.pid}/net/dev`, 'utf8').catch(() => ''));
    if (Object.keys(net).length) networks = net;
  }
  return { read: new Date().toISOString(), raw, ...host, networks };
}

function cpuStats(s: StatsSample | undefined) {
  if (!s) {
    return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
  }
  const c = s.raw.cpu;
  return {
    cpu_usage: { total_usage: c.total, ...(c.perCpu?.length ? { percpu_usage: c.perCpu } : {}), usage_in_kernelmode: c.system, usage_in_usermode: c.user },
    system_cpu_usage: s.systemCpu,
    online_cpus: s.onlineCpus,
    throttling_data: { periods: c.throttling.periods, throttled_periods: c.throttling.throttledPeriods, throttled_time: c.throttling.throttledTime },
  };
}

function blkioStats(s: StatsSample | undefined) {
  const v1 = s?.raw.cgroupVersion === 1;
  const rest = v1 ? [] : null;
  const entries = (e: BlkioEntry[] | undefined) => (e ? e.map((x) => ({ major: x.major, minor: x.minor, op: x.op, value: x.value })) : null);
  return {
    io_service_bytes_recursive: entries(s?.raw.blkio.ioServiceBytesRecursive), io_serviced_recursive: entries(s?.raw.blkio.ioServicedRecursive),
    io_queue_recursive: rest, io_service_time_recursive: rest, io_wait_time_recursive: rest, io_merged_recursive: rest, io_time_recursive: rest, sectors_recursive: rest,
  };
}

function memoryStats(s: StatsSample | undefined) {
  if (!s) return {};
  const m = s.raw.memory;
  // No limit (or one above the machine's memory) reads as the machine's memory, as dockerd reports it.
  const machine = totalmem();
  const limit = m.limit === undefined || m.limit > machine ? machine : m.limit;
  return {
    usage: m.usage,
    ...(m.maxUsage !== undefined ? { max_usage: m.maxUsage } : {}),
    stats: m.stats,
    ...(m.failcnt ? { failcnt: m.failcnt } : {}),
    limit,
  };
}

/** One stats object; `pre` fills precpu_stats (empty on the first of a stream, or for one-shot). */
export function statsJSON(c: Container, cur: StatsSample | undefined, pre: StatsSample | undefined) {
  return {
    read: cur?.read ?? ZERO_TIME,
    preread: pre?.read ?? ZERO_TIME,
    pids_stats: cur ? { current: cur.raw.pids.current, ...(cur.raw.pids.limit !== undefined ? { limit: cur.raw.pids.limit } : {}) } : {},
    blkio_stats: blkioStats(cur),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats(cur),
    precpu_stats: cpuStats(pre),
    memory_stats: memoryStats(cur),
    name: c.Name,
    id: c.Id,
    ...(cur?.networks ? { networks: cur.networks } : {}),
  };
}
