// The runc exec driver against the real runc and conmon, with a busybox root file system.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, symlinkSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { ContainerSpec, ExecDriver, LogEntry } from '../plugins/exec/driver.js';
import { createRuncDriver } from '../plugins/exec-runc/index.js';
import { makeBusyboxRootfs } from './helpers/rootfs.js';
import { readUntil, within } from './helpers/stdio.js';

const RUNC = '/usr/sbin/runc';
const quiet = pino({ level: 'silent' });
const cgroupParent = `/berth-test-${process.pid}`;
const EXTRA_APPLETS = ['mount', 'head', 'tr', 'seq', 'printf', 'kill', 'wc'];

let dir: string;
let rootfs: string;
let stateDir: string;
let driver: ExecDriver;
const drivers: ExecDriver[] = [];
const created: string[] = [];
let seq = 0;

type Overrides = Partial<Omit<ContainerSpec, 'process'>> & { tty?: boolean };

async function createContainer(args: string[], o: Overrides & { openStdin?: boolean; stdinOnce?: boolean; on?: ExecDriver } = {}) {
  const id = `berth-test-${process.pid}-${++seq}`;
  const bundle = join(dir, 'bundles', id);
  mkdirSync(bundle, { recursive: true });
  const { tty = false, openStdin = false, stdinOnce, on = driver, ...rest } = o;
  const container: ContainerSpec = {
    id, hostname: 'test', root: { path: rootfs, readonly: false }, mounts: [], cgroupsPath: `${cgroupParent}/${id}`,
    process: { args, env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 }, tty },
    ...rest,
  };
  created.push(id);
  const logPath = join(bundle, 'container.log');
  await on.create({ id, bundle, container, openStdin, stdinOnce, tty, logPath });
  return { id, logPath, bundle };
}

async function logsOf(logPath: string): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of driver.readLogs(logPath)) out.push(e);
  return out;
}

const text = (entries: LogEntry[], stream: 'stdout' | 'stderr') =>
  entries.filter((e) => e.stream === stream).map((e) => e.line.toString() + (e.partial ? '' : '\n')).join('');


before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-runc-'));
  makeBusyboxRootfs(dir);
  rootfs = join(dir, 'rootfs');
  for (const a of EXTRA_APPLETS) symlinkSync('busybox', join(rootfs, 'bin', a));
  mkdirSync(join(rootfs, 'mnt'));
  stateDir = join(dir, 'state');
  driver = await createRuncDriver({ runtimePath: RUNC, name: 'runc', stateDir, log: quiet });
  drivers.push(driver);
});

after(async () => {
  for (const id of created) await driver.delete(id).catch(() => undefined);
  // Our test cgroups' parent, in every v1 hierarchy (the leaves went with runc delete).
  for (const ctrl of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
    const p = join('/sys/fs/cgroup', ctrl, cgroupParent);
    if (existsSync(p)) {
      try {
        rmdirSync(p);
      } catch {
        // busy or not a cgroup hierarchy
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('exec-runc driver', () => {
  it('reports the runtime version', async () => {
    const v = await driver.version();
    assert.match(v.version, /^\d+\.\d+/);
  });

  it('runs echo hi: the log has hi on stdout and the exit code is 0', async () => {
    const c = await createContainer(['echo', 'hi']);
    assert.equal((await driver.state(c.id)).status, 'created');
    await driver.start(c.id);
    const exit = await within(driver.waitExit(c.id), 10000, 'waitExit');
    assert.equal(exit.exitCode, 0);
    assert.equal(exit.oomKilled, false);
    assert.match(exit.finishedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const entries = await logsOf(c.logPath);
    assert.equal(text(entries, 'stdout'), 'hi\n');
    const state = await driver.state(c.id);
    assert.equal(state.status, 'stopped');
    assert.equal(state.exit?.exitCode, 0);
    await driver.delete(c.id);
    await assert.rejects(driver.state(c.id), /No such container/);
    assert.ok(!existsSync(join(stateDir, 'exits', c.id)));
  });

  it('reports exit 7 and writes stderr apart from stdout', async () => {
    const c = await createContainer(['sh', '-c', 'echo out; echo err >&2; exit 7']);
    await driver.start(c.id);
    assert.equal((await within(driver.waitExit(c.id), 10000, 'waitExit')).exitCode, 7);
    const entries = await logsOf(c.logPath);
    assert.equal(text(entries, 'stdout'), 'out\n');
    assert.equal(text(entries, 'stderr'), 'err\n');
    const tail = [];
    for await (const e of driver.readLogs(c.logPath, { tail: 1 })) tail.push(e);
    assert.equal(tail.length, 1);
  });

  it('runs sleep: running with a pid; TERM is ignored by a pid 1 without a handler, KILL gives 137', async () => {
    const c = await createContainer(['sleep', '1000']);
    await driver.start(c.id);
    const st = await driver.state(c.id);
    assert.equal(st.status, 'running');
    assert.ok(st.pid > 0);
    await driver.kill(c.id, 'TERM');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await driver.state(c.id)).status, 'running');
    await driver.kill(c.id, 'KILL');
    assert.equal((await within(driver.waitExit(c.id), 10000, 'waitExit')).exitCode, 137);
  });

  it('delivers TERM to a process that handles it', async () => {
    const c = await createContainer(['sh', '-c', 'trap "exit 143" TERM; while true; do sleep 0.1; done']);
    await driver.start(c.id);
    await new Promise((r) => setTimeout(r, 200));
    await driver.kill(c.id, 'SIGTERM');
    assert.equal((await within(driver.waitExit(c.id), 10000, 'waitExit')).exitCode, 143);
  });

  it('pauses and resumes', async () => {
    const c = await createContainer(['sleep', '1000']);
    await driver.start(c.id);
    await driver.pause(c.id);
    assert.equal((await driver.state(c.id)).status, 'paused');
    await driver.resume(c.id);
    assert.equal((await driver.state(c.id)).status, 'running');
    await driver.kill(c.id, 'KILL');
    await within(driver.waitExit(c.id), 10000, 'waitExit');
  });

  it('execs id -u in a running container', async () => {
    const c = await createContainer(['sleep', '1000']);
    await driver.start(c.id);
    const { stdio, exited } = await driver.exec(c.id, {
      execId: 'exec1', args: ['id', '-u'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 }, tty: false, openStdin: false,
    });
    const out = await readUntil(stdio, () => false);
    assert.equal(out, '0\n');
    assert.equal((await within(exited, 10000, 'exec exit')).exitCode, 0);
    const second = await driver.exec(c.id, {
      execId: 'exec2', args: ['sh', '-c', 'echo e >&2; exit 3'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 }, tty: false, openStdin: false,
    });
    const chunks = [];
    for await (const ch of second.stdio.output) chunks.push(ch);
    assert.deepEqual(chunks.map((ch) => [ch.stream, ch.data.toString()]), [['stderr', 'e\n']]);
    assert.equal((await within(second.exited, 10000, 'exec exit')).exitCode, 3);
    await assert.rejects(
      driver.exec(c.id, { execId: 'exec3', args: ['/nonexistent'], env: [], cwd: '/', user: { uid: 0, gid: 0 }, tty: false, openStdin: false }),
      /nonexistent/,
    );
    await driver.kill(c.id, 'KILL');
    await within(driver.waitExit(c.id), 10000, 'waitExit');
  });

  it('an exec that outlives the spawner thread\'s idle time (its monitor\'s pipes are relayed from there) still reports its exit code', async () => {
    const c = await createContainer(['sleep', '1000']);
    await driver.start(c.id);
    const { stdio, exited } = await driver.exec(c.id, {
      execId: 'exec-long', args: ['sh', '-c', 'sleep 2; echo done; exit 4'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 }, tty: false, openStdin: false,
    });
    assert.equal(await readUntil(stdio, () => false), 'done\n');
    assert.equal((await within(exited, 10000, 'exec exit')).exitCode, 4);
    await driver.kill(c.id, 'KILL');
    await within(driver.waitExit(c.id), 10000, 'waitExit');
  });

  it('attaches to a cat container: stdin comes back on stdout', async () => {
    const c = await createContainer(['cat'], { openStdin: true, stdinOnce: true });
    const stdio = await driver.attach(c.id);
    await driver.start(c.id);
    stdio.stdin!.write('hello berth\n');
    assert.equal(await readUntil(stdio, (s) => s.includes('\n')), 'hello berth\n');
    stdio.stdin!.end(); // stdinOnce: closing our stdin ends cat
    assert.equal((await within(driver.waitExit(c.id), 10000, 'waitExit')).exitCode, 0);
    stdio.close();
  });

  it('gives a TTY container raw output and resizes its terminal', async () => {
    const c = await createContainer(['sh', '-c', 'read x; stty size; printf "a\\nb\\n"'], { tty: true, openStdin: true });
    const stdio = await driver.attach(c.id);
    await driver.start(c.id);
    await stdio.resize!(40, 100);
    stdio.stdin!.write('go\n');
    const out = await readUntil(stdio, (s) => s.includes('b\r\n'));
    assert.match(out, /40 100\r\n/);
    assert.ok(out.endsWith('a\r\nb\r\n'), JSON.stringify(out));
    assert.equal((await within(driver.waitExit(c.id), 10000, 'waitExit')).exitCode, 0);
    stdio.close();
  });

  it('refuses mount to a default container and allows it to a privileged one', async () => {
    const plain = await createContainer(['mount', '-t', 'tmpfs', 'none', '/mnt']);
    await driver.start(plain.id);
    assert.notEqual((await within(driver.waitExit(plain.id), 10000, 'waitExit')).exitCode, 0);
    const priv = await createContainer(['mount', '-t', 'tmpfs', 'none', '/mnt'], { privileged: true });
    await driver.start(priv.id);
    assert.equal((await within(driver.waitExit(priv.id), 10000, 'waitExit')).exitCode, 0);
  });

  it('holds a pids limit', async () => {
    // 40 background sleeps against a limit of 10: busybox sh stops at the first refused fork.
    const c = await createContainer(['sh', '-c', 'for i in $(seq 1 40); do sleep 60 & done; echo spawned all'], { resources: { pidsLimit: 10 } });
    const pidsDir = join('/sys/fs/cgroup/pids', cgroupParent, c.id);
    assert.equal(readFileSync(join(pidsDir, 'pids.max'), 'utf8').trim(), '10');
    await driver.start(c.id);
    assert.equal((await within(driver.waitExit(c.id), 10000, 'waitExit')).exitCode, 2);
    const logs = await logsOf(c.logPath);
    assert.match(text(logs, 'stderr'), /can't fork: Resource temporarily unavailable/);
    assert.doesNotMatch(text(logs, 'stdout'), /spawned all/);
  });

  it('OOM-kills a process over its memory limit (exit 137, oomKilled)', async () => {
    const c = await createContainer(['sh', '-c', 'x=$(head -c 200000000 /dev/zero | tr "\\0" a); echo survived'], { resources: { memory: 32 * 1024 * 1024 } });
    await driver.start(c.id);
    const exit = await within(driver.waitExit(c.id), 30000, 'waitExit');
    assert.equal(exit.exitCode, 137);
    assert.equal(exit.oomKilled, true);
    assert.equal((await driver.state(c.id)).exit?.oomKilled, true);
  });

  it('keeps a container through a daemon restart and learns its exit code afterwards', async () => {
    const first = await createRuncDriver({ runtimePath: RUNC, name: 'runc', stateDir, log: quiet });
    const c = await createContainer(['sh', '-c', 'sleep 1; exit 3'], { on: first });
    await first.start(c.id);
    // "Restart": a new driver on the same state, the first one dropped.
    const second = await createRuncDriver({ runtimePath: RUNC, name: 'runc', stateDir, log: quiet });
    assert.ok((await second.list()).includes(c.id));
    const st = await second.state(c.id);
    assert.equal(st.status, 'running');
    assert.equal((await within(second.waitExit(c.id), 10000, 'waitExit')).exitCode, 3);
  });

  it('fails create with the runtime message and leaves nothing behind', async () => {
    const id = `berth-test-${process.pid}-bad`;
    const bundle = join(dir, 'bundles', id);
    mkdirSync(bundle, { recursive: true });
    created.push(id);
    const container: ContainerSpec = {
      id, hostname: 'bad', root: { path: rootfs, readonly: false }, mounts: [], cgroupsPath: `${cgroupParent}/${id}`,
      process: { args: ['/nonexistent'], env: [], cwd: '/', user: { uid: 0, gid: 0 }, tty: false },
    };
    await assert.rejects(
      driver.create({ id, bundle, container, openStdin: false, tty: false, logPath: join(bundle, 'log') }),
      (err: Error) => /OCI runtime create failed/.test(err.message) && /nonexistent/.test(err.message) && err.message.includes(id),
    );
    assert.ok(!(await driver.list()).includes(id));
    assert.ok(!existsSync(join(stateDir, 'containers', id)));
    assert.ok(!existsSync(join(stateDir, 'runtime', id)));
    assert.ok(!existsSync(join(bundle, 'attach')));
  });
});
