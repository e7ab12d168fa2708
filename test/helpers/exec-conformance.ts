// The exec-driver conformance suite: registers node:test tests that drive a real driver through
// the ExecDriver contract (EXEC_DRIVER_API 2.x) with runtime-neutral container descriptions over
// a busybox root file system. Built-in drivers run it; point it at your own exec-driver plugin
// with BERTH_EXEC_DRIVER_DIR (see plugins/exec/README.md).
import assert from 'node:assert/strict';
import { existsSync, rmdirSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import * as errors from '../../core/errors.js';


import { EXEC_DRIVER_API, type ContainerSpec, type CreateRequest, type ExecDriver, type RuntimeRegistration } from '../../plugins/exec/index.js';
import { loadDriverPlugin } from './driver-plugin.js';
import { drain, readUntil, within } from './stdio.js';
import { makeBusyboxRootfs } from './rootfs.js';

export interface OpenedExecDriver {
  driver: ExecDriver;
  /** Undoes open(): deletes what is left and removes the driver's state folder. */
  cleanup: () => Promise<void>;
}

/**
 * Imports an exec-driver plugin folder and runs its init with a stand-in context whose
 * ctx.drivers (and older `runtimes.register`) captures the registrations (no runtime configured in daemon.json); returns the one named
 * `name`, or the only one.
 */
export async function loadExecPlugin(dir: string, name?: string): Promise<RuntimeRegistration> {
  const { registrations } = await loadDriverPlugin<RuntimeRegistration>(dir, {
    pluginKind: 'execdriver', kind: 'exec', version: EXEC_DRIVER_API, service: 'runtimes',
    serviceImpl: (owner) => ({
      register: (r: RuntimeRegistration) => owner.register('exec', { ...r, api: r.api ?? '1.0.0' }),
      configured: () => ({}), names: () => [], describe: () => ({}), defaultName: () => 'runc',
    }),
  });
  const reg = name ? registrations.find((r) => r.name === name) : registrations[0];
  assert.ok(reg, `${dir}: init registered no runtime${name ? ` named ${name}` : ''} (registered: ${registrations.map((r) => r.name).join(', ') || 'none'})`);
  assert.ok(!name ? registrations.length === 1 : true, `${dir}: init registered ${registrations.length} runtimes; name the one to test`);
  return reg;
}

/** An open() for execDriverConformance: the plugin's driver on a fresh temporary state folder. */
export function openExecPlugin(dir: string, name?: string): () => Promise<OpenedExecDriver> {
  return async () => {
    const reg = await loadExecPlugin(dir, name);
    const stateDir = await mkdtemp(join(tmpdir(), `berth-exec-${reg.name}-`));
    const driver = await reg.open({ stateDir, log: pino({ level: 'silent' }), options: {} });
    return {
      driver,
      cleanup: async () => {
        for (const id of await driver.list().catch(() => [] as string[])) await driver.delete(id).catch(() => undefined);
        await rm(stateDir, { recursive: true, force: true });
      },
    };
  };
}

const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d)$/;

/** Registers the suite for one driver. It needs root, runc's host support (namespaces, cgroups) and /bin/busybox. */
export function execDriverConformance(name: string, open: () => Promise<OpenedExecDriver>): void {
  describe(`exec driver conformance: ${name}`, () => {
    let opened: OpenedExecDriver;
    let driver: ExecDriver;
    let tmp: string;
    let rootfs: string;
    let seq = 0;
    const cgroupParent = `/berth-conformance-${process.pid}`;

    before(async () => {
      tmp = await mkdtemp(join(tmpdir(), 'berth-exec-conformance-'));
      makeBusyboxRootfs(tmp);
      rootfs = join(tmp, 'rootfs');
      opened = await open();
      driver = opened.driver;
    });

    after(async () => {
      await opened?.cleanup();
      // Our cgroups' parent in each hierarchy (the leaves went with the containers).
      for (const h of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
        for (const p of [join('/sys/fs/cgroup', h, cgroupParent), join('/sys/fs/cgroup', cgroupParent)]) {
          try {
            if (existsSync(p)) rmdirSync(p);
          } catch {
            // busy, or not a cgroup hierarchy
          }
        }
      }
      await rm(tmp, { recursive: true, force: true });
    });

    /** A description of a busybox container running args as root, with `over` applied. */
    function describeContainer(args: string[], over: Partial<ContainerSpec> = {}): ContainerSpec {
      const id = `bxconf-${process.pid}-${++seq}`;
      return {
        id, hostname: id.slice(0, 12), root: { path: rootfs, readonly: false }, mounts: [], cgroupsPath: `${cgroupParent}/${id}`,
        process: { args, env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 }, tty: false },
        ...over,
      };
    }

    async function create(container: ContainerSpec, opts: Partial<CreateRequest> = {}): Promise<CreateRequest> {
      const bundle = join(tmp, 'bundles', container.id);
      await mkdir(bundle, { recursive: true });
      const req: CreateRequest = { id: container.id, bundle, container, openStdin: false, tty: false, logPath: join(bundle, 'container.log'), ...opts };
      await within(driver.create(req), 30_000, `create ${container.id}`);
      return req;
    }

    async function pidOf(id: string, started: { pid: number } | void): Promise<number> {
      return started?.pid ?? (await driver.state(id)).pid;
    }

    test('version names the runtime build', async () => {
      const v = await driver.version();
      assert.equal(typeof v.version, 'string');
      assert.ok(v.version.length > 0);
      assert.equal(typeof v.commit, 'string');
    });

    test('runs echo hi: created, attached before start, "hi" on stdout, exit 0, stopped, then deleted and gone', async () => {
      const c = describeContainer(['echo', 'hi']);
      await create(c);
      assert.equal((await driver.state(c.id)).status, 'created');
      assert.ok((await driver.list()).includes(c.id), 'list has a created container');
      const stdio = await driver.attach(c.id);
      await within(driver.start(c.id), 30_000, 'start');
      const out = await drain(stdio);
      assert.deepEqual(out, { stdout: 'hi\n', stderr: '' }, 'an attach before start sees the output from the first byte');
      const exit = await within(driver.waitExit(c.id), 15_000, 'waitExit');
      assert.equal(exit.exitCode, 0);
      assert.equal(exit.oomKilled, false);
      assert.match(exit.finishedAt, RFC3339_NANO);
      const state = await driver.state(c.id);
      assert.equal(state.status, 'stopped');
      assert.equal(state.pid, 0);
      assert.equal(state.exit?.exitCode, 0);
      stdio.close();
      await driver.delete(c.id);
      assert.ok(!(await driver.list()).includes(c.id), 'a deleted container is not listed');
      await assert.rejects(driver.state(c.id), (err: errors.BerthError) => err.code === 'E_NOT_FOUND');
      await assert.rejects(driver.waitExit(c.id), (err: errors.BerthError) => err.code === 'E_NOT_FOUND');
    });

    test('tags stdout and stderr apart and reports the exit code', async () => {
      const c = describeContainer(['sh', '-c', 'echo out; echo err >&2; exit 3']);
      await create(c);
      const stdio = await driver.attach(c.id);
      await driver.start(c.id);
      assert.deepEqual(await drain(stdio), { stdout: 'out\n', stderr: 'err\n' });
      assert.equal((await within(driver.waitExit(c.id), 15_000, 'waitExit')).exitCode, 3);
      assert.equal((await driver.state(c.id)).exit?.exitCode, 3);
      await driver.delete(c.id);
    });

    test('honours the description: env, cwd, user and groups, hostname, bind and tmpfs mounts, read-only root', async () => {
      const host = join(tmp, 'host-data');
      await mkdir(host, { recursive: true });
      await writeFile(join(host, 'greeting'), 'from the host\n');
      await chmod(host, 0o755);
      const hostnameFile = join(tmp, 'hostname-file');
      await writeFile(hostnameFile, 'from-file\n');
      const script = [
        'echo "$FOO"', 'pwd', 'id -u', 'id -G', 'cat /proc/sys/kernel/hostname', 'cat /etc/hostname', 'cat /data/greeting',
        '(echo x > /data/new) 2>/dev/null || echo data-ro', '(echo x > /newfile) 2>/dev/null || echo root-ro',
        'echo y > /scratch/w && cat /scratch/w',
      ].join('; ');
      const c = describeContainer(['sh', '-c', script], {
        hostname: 'conformance',
        root: { path: rootfs, readonly: true },
        mounts: [
          { destination: '/etc/hostname', type: 'bind', source: hostnameFile, readonly: true },
          { destination: '/data', type: 'bind', source: host, readonly: true },
          { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] },
        ],
      });
      c.process = { ...c.process, env: ['PATH=/bin', 'FOO=bar'], cwd: '/tmp', user: { uid: 1000, gid: 1000, additionalGids: [2000] } };
      await create(c);
      const stdio = await driver.attach(c.id);
      await driver.start(c.id);
      const out = await drain(stdio);
      assert.equal(out.stdout, ['bar', '/tmp', '1000', '1000 2000', 'conformance', 'from-file', 'from the host', 'data-ro', 'root-ro', 'y', ''].join('\n'), out.stderr);
      assert.equal((await within(driver.waitExit(c.id), 15_000, 'waitExit')).exitCode, 0);
      await driver.delete(c.id);
      assert.equal(await readFile(join(host, 'greeting'), 'utf8'), 'from the host\n');
      assert.deepEqual(await readdir(host), ['greeting'], 'nothing written through a read-only bind');
    });

    test('a long-running container: running with a host pid, exec output and exit code, kill, exit 137', async () => {
      const c = describeContainer(['sleep', '60']);
      await create(c);
      const pid = await pidOf(c.id, await within(driver.start(c.id), 30_000, 'start'));
      assert.ok(pid > 0);
      const state = await driver.state(c.id);
      assert.equal(state.status, 'running');
      assert.equal(state.pid, pid);
      assert.match(await readFile(`/proc/${pid}/cmdline`, 'utf8'), /^sleep\0/, 'the pid is the container\'s init on the host');
      assert.ok((await driver.list()).includes(c.id));

      const ran = await within(driver.exec(c.id, {
        execId: `${c.id}-e1`, args: ['sh', '-c', 'echo in-exec; echo to-err >&2; exit 5'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 }, tty: false, openStdin: false,
      }), 30_000, 'exec');
      assert.deepEqual(await drain(ran.stdio), { stdout: 'in-exec\n', stderr: 'to-err\n' });
      assert.equal((await within(ran.exited, 15_000, 'exec exit')).exitCode, 5);
      ran.stdio.close();
      assert.equal((await driver.state(c.id)).status, 'running', 'an exec\'s end leaves the container running');

      await driver.kill(c.id, 'SIGKILL');
      const exit = await within(driver.waitExit(c.id), 15_000, 'waitExit');
      assert.equal(exit.exitCode, 137);
      assert.equal((await driver.state(c.id)).status, 'stopped');
      await assert.rejects(driver.kill(c.id, 'SIGKILL'), 'a stopped container cannot be signalled');
      await driver.delete(c.id);
      assert.ok(!(await driver.list()).includes(c.id));
      assert.ok(!existsSync(`/proc/${pid}`) || !(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).startsWith('sleep\0'), 'the process is gone');
    });

    test('stdin: an attached client\'s input reaches the process; closing it ends a stdinOnce container', async () => {
      const c = describeContainer(['cat']);
      await create(c, { openStdin: true, stdinOnce: true });
      const stdio = await driver.attach(c.id);
      await driver.start(c.id);
      assert.ok(stdio.stdin, 'an openStdin container has a stdin to write');
      stdio.stdin.write('ping\n');
      assert.equal(await readUntil(stdio, (s) => s.includes('\n')), 'ping\n');
      stdio.stdin.end();
      assert.equal((await within(driver.waitExit(c.id), 15_000, 'waitExit')).exitCode, 0);
      stdio.close();
      await driver.delete(c.id);
    });

    test('a command that cannot run fails create or start with the runtime\'s words, and leaves nothing listed', async () => {
      const c = describeContainer(['/nonexistent']);
      const failed = await (async () => {
        try {
          await create(c);
          await within(driver.start(c.id), 30_000, 'start');
          return undefined;
        } catch (err) {
          return err as Error;
        }
      })();
      assert.ok(failed, 'create or start must fail');
      assert.match(failed.message, /nonexistent/, 'the message names what could not run');
      assert.match(failed.message, new RegExp(`${c.id}|runtime`), 'the message names the container or the runtime');
      await driver.delete(c.id);
      assert.ok(!(await driver.list()).includes(c.id));
    });

    test('unknown ids: state, kill and waitExit are E_NOT_FOUND, delete is a no-op', async () => {
      const id = `bxconf-${process.pid}-none`;
      const notFound = (err: errors.BerthError) => err.code === 'E_NOT_FOUND';
      await assert.rejects(driver.state(id), notFound);
      await assert.rejects(driver.kill(id, 'SIGTERM'), notFound);
      await assert.rejects(driver.waitExit(id), notFound);
      await driver.delete(id);
    });
  });
}
