// docker top, stats and update, and the limits and confinement a container runs under, with the
// real CLI, runc and conmon; cgroup values read back from the host's own cgroup files.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { apiRequest, docker, type DockerOptions, makeTempDir, type RunningDaemon, startDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';
import { poll } from './helpers/poll.js';

let d: RunningDaemon;
let work: string;
let metricsPort: number;

const freePort = () => new Promise<number>((resolve, reject) => {
  const s = createServer();
  s.once('error', reject);
  s.listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  });
});

before(async () => {
  work = makeTempDir('berth-res-');
  metricsPort = await freePort();
  d = await startDaemon({ args: ['--metrics-addr', `127.0.0.1:${metricsPort}`] });
  await importBusybox(d.socket, work);
});
after(async () => {
  await removeAllContainers(d.socket);
  await d?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

const run = (args: string[], opts: DockerOptions = {}) => docker(d.socket, args, { timeoutMs: 60_000, ...opts });
const inspect = async (name: string) => JSON.parse((await docker(d.socket, ['inspect', name])).stdout)[0];

/** A file of the container's cgroup on the host, v2 (unified) or v1 (per controller). */
function cgroupFile(id: string, v1Controller: string, v1File: string, v2File: string): string {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return join('/sys/fs/cgroup/berth', id, v2File);
  return join('/sys/fs/cgroup', v1Controller, 'berth', id, v1File);
}
const readCgroup = (id: string, ctrl: string, v1: string, v2: string) => readFileSync(cgroupFile(id, ctrl, v1, v2), 'utf8').trim();

async function runDetached(args: string[]): Promise<string> {
  const r = await run(['run', '-d', ...args]);
  return r.stdout.trim();
}

test('docker top lists the container\'s processes through the host\'s ps; a stopped container is refused', async () => {
  const id = await runDetached(['--name', 'top1', 'busybox', 'sh', '-c', 'sleep 1001 & sleep 1002; echo done']);
  const pid = (await inspect('top1')).State.Pid;
  let out = '';
  await poll(async () => (out = (await docker(d.socket, ['top', 'top1'])).stdout).includes('sleep 1002'), { maxTries: 50, intervalMs: 100 });
  const [header, ...rows] = out.trim().split('\n');
  assert.deepEqual(header.trim().split(/\s+/), ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  assert.equal(rows.length, 3, out);
  assert.ok(rows.some((r) => r.split(/\s+/)[1] === String(pid) && r.includes('sh -c sleep 1001 & sleep 1002; echo done')), out);
  assert.ok(rows.some((r) => r.endsWith('sleep 1001')) && rows.some((r) => r.endsWith('sleep 1002')), out);

  // ps options pass through; rows still only the container's.
  const custom = await docker(d.socket, ['top', 'top1', '-o', 'pid,comm']);
  const lines = custom.stdout.trim().split('\n');
  assert.deepEqual(lines[0].trim().split(/\s+/), ['PID', 'COMMAND']);
  assert.deepEqual(lines.slice(1).map((l) => l.trim().split(/\s+/)[1]).sort(), ['sh', 'sleep', 'sleep']);

  await docker(d.socket, ['kill', 'top1']);
  await docker(d.socket, ['wait', 'top1']);
  const refused = await docker(d.socket, ['top', 'top1'], { expectCode: 'failure' });
  assert.match(refused.stderr, new RegExp(`Container ${id} is not running`));
});

test('docker stats --no-stream prints the container\'s row: its memory limit is --memory, its pids counted', async () => {
  await runDetached(['--name', 'st1', '--memory', '64m', 'busybox', 'sh', '-c', 'sleep 1000; echo done']);
  const r = await docker(d.socket, ['stats', '--no-stream', '--format', '{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.MemPerc}}|{{.PIDs}}', 'st1']);
  const [name, cpu, mem, memPerc, pids] = r.stdout.trim().split('|');
  assert.equal(name, 'st1');
  assert.match(cpu, /^\d+\.\d\d%$/);
  assert.match(mem, /^\d+(\.\d+)?[KMG]?i?B \/ 64MiB$/);
  assert.match(memPerc, /^\d+\.\d\d%$/);
  assert.equal(pids, '2');

  // The default table, as a user types it.
  const table = await docker(d.socket, ['stats', '--no-stream', 'st1']);
  assert.match(table.stdout, /CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS/);
  assert.match(table.stdout, /\bst1\s+\d+\.\d\d%\s+\S+ \/ 64MiB\s+\S+%\s+\S+ \/ \S+\s+\S+ \/ \S+\s+2\n/);

  // A stopped container reads as zeroes.
  await docker(d.socket, ['create', '--name', 'st0', 'busybox', 'true']);
  const zero = await docker(d.socket, ['stats', '--no-stream', '--format', '{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.PIDs}}', 'st0']);
  assert.equal(zero.stdout.trim(), 'st0|0.00%|0B / 0B|0');
});

/** Reads streamed stats objects from the API until `count` arrived, then hangs up. */
function streamStats(name: string, count: number): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const objects: any[] = [];
    let buf = '';
    const req = request({ socketPath: d.socket, path: `/v1.41/containers/${name}/stats` }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          objects.push(JSON.parse(buf.slice(0, nl)));
          buf = buf.slice(nl + 1);
        }
        if (objects.length >= count) {
          req.destroy();
          resolve(objects);
        }
      });
      res.on('end', () => reject(new Error(`stream ended after ${objects.length} objects`)));
    });
    req.setTimeout(15_000, () => req.destroy(new Error(`no ${count} stats objects within 15 s`)));
    req.on('error', (err) => { if (objects.length < count) reject(err); });
    req.end();
  });
}

const statsJobsDone = async () => {
  const text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
  return Number(/berth_job_duration_seconds_count\{job="container.stats"\} (\d+)/.exec(text)?.[1] ?? 0);
};

test('streamed stats over the API: an object a second with precpu from the one before; the stream ends when the client leaves', async () => {
  await runDetached(['--name', 'st2', '--memory', '32m', 'busybox', 'sleep', '1000']);
  const doneBefore = await statsJobsDone();
  const [first, second] = await streamStats('st2', 2);
  assert.equal(second.name, '/st2');
  assert.equal(second.id, (await inspect('st2')).Id);
  assert.equal(first.preread, '0001-01-01T00:00:00Z');
  assert.equal(second.preread, first.read);
  assert.ok(Date.parse(second.read) - Date.parse(first.read) >= 900, `${first.read} → ${second.read}`);
  assert.equal(second.precpu_stats.system_cpu_usage, first.cpu_stats.system_cpu_usage);
  assert.ok(second.cpu_stats.system_cpu_usage > first.cpu_stats.system_cpu_usage);
  assert.ok(second.cpu_stats.online_cpus >= 1);
  assert.ok(second.cpu_stats.cpu_usage.total_usage > 0);
  assert.equal(second.memory_stats.limit, 32 * 1024 * 1024);
  assert.ok(second.memory_stats.usage > 0);
  assert.equal(second.pids_stats.current, 1);
  assert.equal(second.networks, undefined, 'a container without a network has no interfaces but lo');
  // The daemon's stats job finishes once the client is gone (bounded wait).
  let done = doneBefore;
  await poll(async () => (done = await statsJobsDone()) !== doneBefore, { maxTries: 51, intervalMs: 100 });
  assert.equal(done, doneBefore + 1);

  const bad = await apiRequest(d.socket, 'GET', '/containers/st2/stats?stream=1&one-shot=1');
  assert.equal(bad.status, 400);
  const oneShot = await apiRequest(d.socket, 'GET', '/containers/st2/stats?stream=false&one-shot=true');
  assert.equal(oneShot.status, 200);
  assert.equal(oneShot.json().preread, '0001-01-01T00:00:00Z');
  assert.equal((await apiRequest(d.socket, 'GET', '/containers/nosuch/stats?stream=0')).status, 404);
});

test('docker update --memory 64m --pids-limit 20 changes the live cgroup and inspect, and emits update', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const id = await runDetached(['--name', 'up1', '--memory', '32m', 'busybox', 'sleep', '1000']);
  assert.equal(readCgroup(id, 'memory', 'memory.limit_in_bytes', 'memory.max'), String(32 * 1024 * 1024));
  const r = await docker(d.socket, ['update', '--memory', '64m', '--pids-limit', '20', 'up1']);
  assert.equal(r.stdout.trim(), 'up1');
  assert.equal(readCgroup(id, 'memory', 'memory.limit_in_bytes', 'memory.max'), String(64 * 1024 * 1024));
  assert.equal(readCgroup(id, 'pids', 'pids.max', 'pids.max'), '20');
  const host = (await inspect('up1')).HostConfig;
  assert.equal(host.Memory, 64 * 1024 * 1024);
  assert.equal(host.PidsLimit, 20);
  const stats = await docker(d.socket, ['stats', '--no-stream', '--format', '{{.MemUsage}}', 'up1']);
  assert.match(stats.stdout, / \/ 64MiB$/m);

  await docker(d.socket, ['update', '--cpus', '0.5', 'up1']);
  assert.equal(readCgroup(id, 'cpu', 'cpu.cfs_quota_us', 'cpu.max').split(' ')[0], '50000');
  assert.equal((await inspect('up1')).HostConfig.NanoCpus, 5e8);

  const until = String(Math.floor(Date.now() / 1000) + 1);
  const events = (await docker(d.socket, ['events', '--since', String(since), '--until', until, '--filter', 'container=up1', '--format', '{{.Action}}'])).stdout.split('\n');
  assert.equal(events.filter((a) => a === 'update').length, 2, events.join(','));
});

test('docker update on a stopped container is kept for its next start, restart policy included', async () => {
  const id = (await docker(d.socket, ['create', '--name', 'up2', 'busybox', 'sleep', '1000'])).stdout.trim();
  await docker(d.socket, ['update', '--pids-limit', '15', '--restart', 'on-failure:3', 'up2']);
  const host = (await inspect('up2')).HostConfig;
  assert.equal(host.PidsLimit, 15);
  assert.deepEqual(host.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  await docker(d.socket, ['start', 'up2']);
  assert.equal(readCgroup(id, 'pids', 'pids.max', 'pids.max'), '15');
});

test('limits dockerd refuses are refused with its words, at create and at update, and nothing changes', async () => {
  const small = await docker(d.socket, ['create', '--memory', '4m', 'busybox'], { expectCode: 'failure' });
  assert.match(small.stderr, /Minimum memory limit allowed is 6MB/);
  const swap = await docker(d.socket, ['create', '--memory', '64m', '--memory-swap', '32m', 'busybox'], { expectCode: 'failure' });
  assert.match(swap.stderr, /Minimum memoryswap limit should be larger than memory limit, see usage/);
  const weight = await docker(d.socket, ['create', '--blkio-weight', '5', 'busybox'], { expectCode: 'failure' });
  assert.match(weight.stderr, /Range of blkio weight is from 10 to 1000/);

  const id = await runDetached(['--name', 'up3', '--memory', '32m', 'busybox', 'sleep', '1000']);
  const tiny = await docker(d.socket, ['update', '--memory', '4m', 'up3'], { expectCode: 'failure' });
  assert.match(tiny.stderr, /Minimum memory limit allowed is 6MB/);
  const over = await docker(d.socket, ['update', '--memory', '128m', 'up3'], { expectCode: 'failure' });
  assert.match(over.stderr, new RegExp(`Cannot update container ${id}: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time`));
  const smallerSwap = await docker(d.socket, ['update', '--memory', '64m', '--memory-swap', '48m', 'up3'], { expectCode: 'failure' });
  assert.match(smallerSwap.stderr, /Minimum memoryswap limit should be larger than memory limit, see usage/);
  await docker(d.socket, ['update', '--cpus', '0.5', 'up3']);
  const quota = await docker(d.socket, ['update', '--cpu-quota', '20000', 'up3'], { expectCode: 'failure' });
  assert.match(quota.stderr, /Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set/);
  const host = (await inspect('up3')).HostConfig;
  assert.equal(host.Memory, 32 * 1024 * 1024);
  assert.equal(host.MemorySwap, 64 * 1024 * 1024);
  assert.equal(host.CpuQuota, 0);
  assert.equal(readCgroup(id, 'memory', 'memory.limit_in_bytes', 'memory.max'), String(32 * 1024 * 1024));
  // More memory with more swap at once is fine.
  await docker(d.socket, ['update', '--memory', '128m', '--memory-swap', '256m', 'up3']);
  assert.equal(readCgroup(id, 'memory', 'memory.limit_in_bytes', 'memory.max'), String(128 * 1024 * 1024));
  assert.match((await docker(d.socket, ['update', '--memory', '64m', 'nosuch'], { expectCode: 'failure' })).stderr, /No such container: nosuch/);
});

test('--memory 32m: a process that allocates more is OOM-killed and inspect says OOMKilled', async () => {
  const r = await run(['run', '--name', 'oom1', '--memory', '32m', 'busybox', 'sh', '-c', 'x=$(busybox head -c 200000000 /dev/zero | busybox tr "\\0" a); echo survived'], { expectCode: 137 });
  assert.doesNotMatch(r.stdout, /survived/);
  const state = (await inspect('oom1')).State;
  assert.equal(state.OOMKilled, true);
  assert.equal(state.ExitCode, 137);
});

test('--pids-limit 10 holds: a fork loop stops at the limit, and pids.current never passes it', async () => {
  const sleeps = Array.from({ length: 40 }, (_, i) => i + 1).join(' ');
  const id = await runDetached(['--name', 'pids1', '--pids-limit', '10', 'busybox', 'sh', '-c',
    `sh -c 'for i in ${sleeps}; do sleep 600 & done; echo spawned all'; echo inner exited $?; sleep 600`]);
  let logs = '';
  await poll(async () => (logs = (await docker(d.socket, ['logs', 'pids1'])).stdout).includes('inner exited'), { maxTries: 100, intervalMs: 100 });
  assert.match(logs, /inner exited 2/);
  assert.doesNotMatch(logs, /spawned all/);
  assert.match((await docker(d.socket, ['logs', 'pids1'])).stderr, /can't fork/);
  assert.equal(readCgroup(id, 'pids', 'pids.max', 'pids.max'), '10');
  const current = Number(readCgroup(id, 'pids', 'pids.current', 'pids.current'));
  assert.ok(current <= 10 && current >= 9, `pids.current ${current}`);
  const stats = await docker(d.socket, ['stats', '--no-stream', '--format', '{{.PIDs}}', 'pids1']);
  assert.ok(Number(stats.stdout.trim()) <= 10, stats.stdout);
});

test('a default container cannot load a kernel module: the syscall itself is refused', async () => {
  const r = await run(['run', '--rm', 'busybox', 'sh', '-c', 'echo x > /tmp/m.ko && busybox insmod /tmp/m.ko'], { expectCode: 'failure' });
  assert.match(r.stderr, /Operation not permitted/);
  assert.doesNotMatch(r.stderr, /No such file/);
});
