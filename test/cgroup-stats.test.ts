// The stats readers on both cgroup versions, from cgroup files as the kernel writes them (this
// host may have only one version), and the JSON docker stats gets from them.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cgroupPids, readCgroupStats } from '../plugins/exec-runc/cgroup-stats.js';
import type { Container } from '../plugins/container-store/records/container.js';
import { parsePsOutput } from '../plugins/container-store/resources/process-table.js';
import { parseNetDev, parseProcStat, statsJSON } from '../plugins/container-store/resources/stats-view.js';
import { makeTempDir } from './helpers/daemon.js';

const dir = makeTempDir('berth-cgstats-');
after(() => rmSync(dir, { recursive: true, force: true }));

function files(root: string, content: Record<string, string>) {
  for (const [name, body] of Object.entries(content)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), body);
  }
}

const container = { Id: 'c'.repeat(64), Name: '/web', HostConfig: {} } as unknown as Container;

describe('cgroup stats', () => {
  it('reads cgroup v2: cpu.stat in µs, memory.max "max", io.stat per device, pids of sub-cgroups', async () => {
    const v2 = join(dir, 'v2');
    files(v2, {
      'cpu.stat': 'usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_periods 3\nnr_throttled 1\nthrottled_usec 7\n',
      'memory.current': '4096\n', 'memory.max': 'max\n', 'memory.stat': 'anon 1000\ninactive_file 200\n',
      'pids.current': '3\n', 'pids.max': '20\n',
      'io.stat': '8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n',
      'cgroup.procs': '10\n11\n', 'sub/cgroup.procs': '12\n',
    });
    const s = await readCgroupStats({ version: 2, dir: v2 }, 10);
    assert.deepEqual(s.cpu, { total: 2e6, user: 1.5e6, system: 5e5, throttling: { periods: 3, throttledPeriods: 1, throttledTime: 7000 } });
    assert.deepEqual(s.memory, { usage: 4096, limit: undefined, stats: { anon: 1000, inactive_file: 200 } });
    assert.deepEqual(s.pids, { current: 3, limit: 20 });
    assert.deepEqual(s.blkio.ioServiceBytesRecursive, [{ major: 8, minor: 0, op: 'read', value: 100 }, { major: 8, minor: 0, op: 'write', value: 200 }]);
    assert.deepEqual((await cgroupPids(v2)).sort(), [10, 11, 12]);

    const json = statsJSON(container, { read: '2026-01-01T00:00:01Z', raw: s, systemCpu: 5e9, onlineCpus: 2 }, undefined);
    assert.deepEqual(json.memory_stats, { usage: 4096, stats: { anon: 1000, inactive_file: 200 }, limit: totalmem() });
    assert.equal('percpu_usage' in json.cpu_stats.cpu_usage, false);
    assert.equal(json.blkio_stats.io_queue_recursive, null);
    assert.equal(json.preread, '0001-01-01T00:00:00Z');
  });

  it('reads cgroup v1: per controller folders, ticks to ns, throttle blkio without its Total line', async () => {
    const v1 = join(dir, 'v1');
    files(v1, {
      'cpuacct/cpuacct.usage': '3000\n', 'cpuacct/cpuacct.usage_percpu': '1000 2000 \n', 'cpuacct/cpuacct.stat': 'user 2\nsystem 1\n',
      'cpu/cpu.stat': 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n',
      'memory/memory.usage_in_bytes': '8192\n', 'memory/memory.limit_in_bytes': '33554432\n', 'memory/memory.max_usage_in_bytes': '9000\n',
      'memory/memory.failcnt': '0\n', 'memory/memory.stat': 'cache 0\ntotal_inactive_file 100\n',
      'pids/pids.current': '1\n', 'pids/pids.max': 'max\n',
      'blkio/blkio.throttle.io_service_bytes_recursive': '8:0 Read 4096\n8:0 Write 0\nTotal 4096\n',
    });
    const dirs = { cpu: join(v1, 'cpu'), cpuacct: join(v1, 'cpuacct'), memory: join(v1, 'memory'), pids: join(v1, 'pids'), blkio: join(v1, 'blkio') };
    const s = await readCgroupStats({ version: 1, dirs }, 42);
    assert.deepEqual(s.cpu, { total: 3000, perCpu: [1000, 2000], user: 2e7, system: 1e7, throttling: { periods: 0, throttledPeriods: 0, throttledTime: 0 } });
    assert.equal(s.memory.limit, 33554432);
    assert.equal(s.memory.maxUsage, 9000);
    assert.deepEqual(s.pids, { current: 1, limit: undefined });
    assert.deepEqual(s.blkio.ioServiceBytesRecursive, [{ major: 8, minor: 0, op: 'Read', value: 4096 }, { major: 8, minor: 0, op: 'Write', value: 0 }]);
    const json = statsJSON(container, { read: 'r', raw: s, systemCpu: 1, onlineCpus: 2 }, undefined);
    assert.deepEqual(json.memory_stats, { usage: 8192, max_usage: 9000, stats: { cache: 0, total_inactive_file: 100 }, limit: 33554432 });
    assert.deepEqual(json.blkio_stats.io_queue_recursive, []);
  });

  it('a stopped container is all zeroes but its name and id', () => {
    const json = statsJSON(container, undefined, undefined);
    assert.equal(json.read, '0001-01-01T00:00:00Z');
    assert.deepEqual(json.memory_stats, {});
    assert.deepEqual(json.pids_stats, {});
    assert.equal(json.cpu_stats.cpu_usage.total_usage, 0);
    assert.equal(json.name, '/web');
  });

  it('counts host CPU time as dockerd does and leaves the loopback out of networks', () => {
    assert.deepEqual(parseProcStat('cpu  10 0 5 100 1 0 0 7 0 0\ncpu0 5 0 2 50 0 0 0 0 0 0\ncpu1 5 0 3 50 1 0 0 0 0 0\nintr 1\n'), { systemCpu: 116 * 1e7, onlineCpus: 2 });
    const dev = 'Inter-|   Receive | Transmit\n face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop fifo colls carrier compressed\n'
      + '    lo: 10 1 0 0 0 0 0 0 10 1 0 0 0 0 0 0\n  eth0: 1500 12 1 2 0 0 0 0 700 8 3 4 0 0 0 0\n';
    assert.deepEqual(parseNetDev(dev), { eth0: { rx_bytes: 1500, rx_packets: 12, rx_errors: 1, rx_dropped: 2, tx_bytes: 700, tx_packets: 8, tx_errors: 3, tx_dropped: 4 } });
  });

  it('keeps ps rows of the container\'s pids, their thread rows, and commands with spaces whole', () => {
    const out = 'UID PID PPID CMD\nroot 1 0 /sbin/init\nroot 10 1 sh -c sleep 5\nroot - - -\nroot 11 10 sleep 5\nroot 12 1 other\nroot - - -\n';
    assert.deepEqual(parsePsOutput(out, new Set([10, 11])), {
      Titles: ['UID', 'PID', 'PPID', 'CMD'],
      Processes: [['root', '10', '1', 'sh -c sleep 5'], ['root', '-', '-', '-'], ['root', '11', '10', 'sleep 5']],
    });
  });
});
