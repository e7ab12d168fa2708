// The daemon's life cycle as an operator sees it: pid file, folders and socket, readiness
// notification, signals (graceful stop, shutdown deadline, forced exit, SIGHUP reload), root check.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  apiRequest, BERTHD, makeTempDir, onCleanup, REPO, runBerthd, startDaemon, type RunningDaemon, type StartOptions,
} from './helpers/daemon.js';
import { waitFor } from './helpers/poll.js';

const SLOW_SHUTDOWN = join(REPO, 'test/fixtures/plugins/slow-shutdown');

/** A daemon in a fresh temp dir (with the given daemon.json), removed when the test ends. */
async function fresh(t: TestContext, opts: StartOptions & { config?: object } = {}): Promise<RunningDaemon> {
  const dir = makeTempDir();
  onCleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'daemon.json'), JSON.stringify(opts.config ?? {}));
  const d = await startDaemon({ ...opts, dir });
  onCleanup(t, () => d.cleanup());
  return d;
}

/** Polls until `check` is true; fails after `timeoutMs`. */
/** Waits for a condition the daemon's log or notifications show, with its output in the error. */
const waitForDaemon = (what: string, check: () => boolean, timeoutMs: number, logs: () => string) =>
  waitFor(what, check, { timeoutMs, intervalMs: 25, detail: () => `daemon output:\n${logs()}` });

/** Resolves with the exit code, or fails if the daemon is still running after `timeoutMs`. */
async function exitWithin(d: RunningDaemon, timeoutMs: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hang'>((resolve) => { timer = setTimeout(() => resolve('hang'), timeoutMs); });
  const r = await Promise.race([d.exited, hang]);
  clearTimeout(timer);
  if (r === 'hang') assert.fail(`daemon did not exit within ${timeoutMs} ms\ndaemon output:\n${d.logs()}`);
  return r;
}

/** The daemon's pino JSON log lines. */
function logLines(d: RunningDaemon): Array<Record<string, any>> {
  return d.logs().split('\n').flatMap((l) => {
    try {
      const v = JSON.parse(l);
      return v && typeof v === 'object' ? [v] : [];
    } catch {
      return [];
    }
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until every plugin has started: /_ping answers early, GET /info only once the daemon is ready. */
async function ready(d: RunningDaemon): Promise<void> {
  assert.equal((await apiRequest(d.socket, 'GET', '/info')).status, 200, d.logs());
}

test('SIGTERM on an idle daemon exits 0 promptly and removes the pid file and the socket', async (t) => {
  const d = await fresh(t);
  assert.ok(existsSync(d.pidfile), 'the pid file exists while the daemon runs');
  assert.equal(readFileSync(d.pidfile, 'utf8').trim(), String(d.proc.pid));
  assert.ok(statSync(d.socket).isSocket(), 'the API socket exists while the daemon runs');
  await ready(d);

  const started = Date.now();
  d.proc.kill('SIGTERM');
  const code = await exitWithin(d, 10_000);
  const elapsed = Date.now() - started;
  assert.equal(code, 0, d.logs());
  assert.ok(elapsed < 5000, `an idle daemon stops well within the 15 s deadline (took ${elapsed} ms)`);
  assert.ok(!existsSync(d.pidfile), 'pid file removed');
  assert.ok(!existsSync(d.socket), 'socket file removed');
  assert.match(d.logs(), /Daemon shutdown complete/);
});

test('SIGTERM while the daemon is still starting (the API already answers) shuts down cleanly', async (t) => {
  // startDaemon returns at the first /_ping, which the API answers before the later plugins
  // (here a third-party one) have started: the signal must not kill the process outright.
  const d = await fresh(t, { args: ['--plugin-dir', SLOW_SHUTDOWN, '--slow-shutdown-ms', '0'] });
  d.proc.kill('SIGTERM');
  const code = await exitWithin(d, 10_000);
  assert.equal(code, 0, `exits through the graceful path, not killed by the signal\n${d.logs()}`);
  assert.equal(d.proc.signalCode, null);
  assert.ok(!existsSync(d.pidfile), 'pid file removed');
  assert.match(d.logs(), /Processing signal/);
});

test('a stop during start-up leaves no mount behind (the storage probe finishes first)', async (t) => {
  // The overlay probe mounts in the data root while /_ping already answers; five tries, each
  // signalled at the first answer, make it likely that one lands mid-probe.
  for (let i = 0; i < 5; i++) {
    const d = await fresh(t);
    d.proc.kill('SIGTERM');
    assert.equal(await exitWithin(d, 10_000), 0, d.logs());
    const left = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4]?.startsWith(d.dataRoot));
    assert.deepEqual(left, [], `run ${i}: mounts left under the data root`);
  }
});

test('a second daemon with the same pid file refuses to start and leaves the first alone', async (t) => {
  const first = await fresh(t);
  const other = makeTempDir();
  onCleanup(t, () => rmSync(other, { recursive: true, force: true }));
  const r = await runBerthd([
    '--data-root', join(other, 'data'), '--exec-root', join(other, 'exec'),
    '-p', first.pidfile, '-H', `unix://${join(other, 'berth.sock')}`,
  ], {}, { expectCode: 'failure' }); // the second daemon must not start
  assert.ok(r.stderr.includes(first.pidfile), `stderr names the pid file: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`\\b${first.proc.pid}\\b`), 'stderr names the running PID');
  assert.ok(!existsSync(join(other, 'berth.sock')), 'the refused daemon left no socket behind');

  const ping = await apiRequest(first.socket, 'GET', '/_ping');
  assert.equal(ping.status, 200);
  assert.equal(ping.body, 'OK');
  assert.equal(readFileSync(first.pidfile, 'utf8').trim(), String(first.proc.pid), 'the first keeps its pid file');
});

test('a stale pid file (its process is gone) is replaced and the daemon starts', async (t) => {
  // A PID that surely is not running: a child that already exited.
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const deadPid = child.pid!;
  await new Promise((resolve) => child.on('exit', resolve));
  assert.throws(() => process.kill(deadPid, 0), /ESRCH/);

  const dir = makeTempDir();
  onCleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'daemon.json'), '{}');
  writeFileSync(join(dir, 'berth.pid'), `${deadPid}\n`);
  const d = await startDaemon({ dir });
  onCleanup(t, () => d.cleanup());
  assert.equal(d.pidfile, join(dir, 'berth.pid'));
  assert.equal(readFileSync(d.pidfile, 'utf8').trim(), String(d.proc.pid), 'the pid file now holds the new daemon');
  assert.equal((await apiRequest(d.socket, 'GET', '/_ping')).status, 200);
});

test('data root is 0700, exec root exists, the socket is 0660 and owned by the -G group', async (t) => {
  // A group other than root, so that the check cannot pass by accident (root-created files get gid 0).
  const groups = readFileSync('/etc/group', 'utf8').split('\n').map((l) => l.split(':')).filter((f) => f.length >= 3 && f[0]);
  const group = groups.find((f) => Number(f[2]) !== 0 && /^[a-z_][a-z0-9_-]*$/.test(f[0]));
  assert.ok(group, 'need a non-root group in /etc/group');
  const [groupName, , gidText] = group;

  const d = await fresh(t, { args: ['-G', groupName] });
  const data = statSync(d.dataRoot);
  assert.ok(data.isDirectory());
  assert.equal((data.mode & 0o777).toString(8), '700', 'data root mode');
  assert.ok(statSync(d.execRoot).isDirectory(), 'exec root exists');
  const sock = statSync(d.socket);
  assert.ok(sock.isSocket());
  assert.equal((sock.mode & 0o777).toString(8), '660', 'socket mode');
  assert.equal(sock.gid, Number(gidText), `socket group is ${groupName}`);
  assert.equal(sock.uid, 0, 'socket owned by root');
});

test('-G naming a group that does not exist: the daemon refuses to start and names the group', async (t) => {
  const dir = makeTempDir();
  onCleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  const group = 'berth-no-such-group-4711';
  const pidfile = join(dir, 'berth.pid');
  const socket = join(dir, 'berth.sock');
  const r = await runBerthd([
    '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '-p', pidfile, '-H', `unix://${socket}`, '-G', group,
  ], {}, { expectCode: 'failure' });
  assert.ok(r.stderr.includes(group), `stderr names the group: ${r.stderr}`);
  assert.ok(!existsSync(pidfile), 'no pid file left behind');
  assert.ok(!existsSync(socket), 'no socket left behind');
});

test('READY=1 reaches NOTIFY_SOCKET when the daemon is up, STOPPING=1 on SIGTERM', async (t) => {
  const dir = makeTempDir();
  onCleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  const notifyPath = join(dir, 'notify.sock');
  const { createSocket } = createRequire(import.meta.url)('unix-dgram') as {
    createSocket: (type: 'unix_dgram', cb: (msg: Buffer) => void) => {
      bind(path: string): void; on(ev: 'error', cb: (err: Error) => void): void; close(): void;
    };
  };
  const messages: string[] = [];
  const sock = createSocket('unix_dgram', (msg) => messages.push(msg.toString()));
  let bindError: Error | undefined;
  sock.on('error', (err) => (bindError = err));
  sock.bind(notifyPath);
  onCleanup(t, () => sock.close());
  assert.equal(bindError, undefined);

  writeFileSync(join(dir, 'daemon.json'), '{}');
  const d = await startDaemon({ dir, env: { NOTIFY_SOCKET: notifyPath } });
  onCleanup(t, () => d.cleanup());
  await waitForDaemon('READY=1', () => messages.some((m) => m.split('\n').includes('READY=1')), 10_000, d.logs);
  assert.ok(!messages.some((m) => m.includes('STOPPING=1')), 'no STOPPING=1 while running');

  d.proc.kill('SIGTERM');
  assert.equal(await exitWithin(d, 10_000), 0);
  await waitForDaemon('STOPPING=1', () => messages.some((m) => m.split('\n').includes('STOPPING=1')), 2000, d.logs);
  assert.ok(messages.findIndex((m) => m.includes('READY=1')) < messages.findIndex((m) => m.includes('STOPPING=1')));
});

test('graceful shutdown is bounded by --shutdown-timeout: a stuck plugin cannot hold the daemon', async (t) => {
  const d = await fresh(t, {
    args: ['--plugin-dir', SLOW_SHUTDOWN, '--slow-shutdown-ms', '60000', '--shutdown-timeout', '1'],
  });
  await ready(d);
  assert.ok(existsSync(d.pidfile));
  const started = Date.now();
  d.proc.kill('SIGTERM');
  const code = await exitWithin(d, 10_000);
  const elapsed = Date.now() - started;
  assert.notEqual(code, 0, 'an unfinished shutdown is reported by the exit code');
  assert.ok(code !== null && code > 0, `exits by itself, not by a signal (code ${code})`);
  assert.ok(elapsed >= 800, `waits for the deadline before giving up (took ${elapsed} ms)`);
  assert.ok(elapsed < 4000, `exits soon after the 1 s deadline, not after the plugin's 60 s (took ${elapsed} ms)`);
  assert.ok(
    logLines(d).some((l) => /shutdown did not finish within the deadline/.test(String(l.msg))),
    `log says the deadline passed:\n${d.logs()}`,
  );
  assert.ok(!existsSync(d.pidfile), 'pid file removed');
});

test('three interrupts force the daemon out with code 130', async (t) => {
  const d = await fresh(t, { args: ['--plugin-dir', SLOW_SHUTDOWN, '--slow-shutdown-ms', '60000'] });
  await ready(d);
  const started = Date.now();
  for (let i = 0; i < 3; i++) {
    d.proc.kill('SIGINT');
    await sleep(150);
  }
  const code = await exitWithin(d, 10_000);
  const elapsed = Date.now() - started;
  assert.equal(code, 130, d.logs());
  assert.ok(elapsed < 5000, `forced exit does not wait for the 15 s deadline (took ${elapsed} ms)`);
  assert.match(d.logs(), /Forcing berth daemon shutdown/);
});

test('one interrupt with a stuck plugin does not exit at once (the daemon waits for cleanup)', async (t) => {
  // The counterpart of the test above: it is the third interrupt that forces the exit.
  const d = await fresh(t, { args: ['--plugin-dir', SLOW_SHUTDOWN, '--slow-shutdown-ms', '60000'] });
  await ready(d);
  d.proc.kill('SIGINT');
  await sleep(1000);
  assert.equal(d.proc.exitCode, null, `still shutting down after one interrupt\n${d.logs()}`);
  assert.doesNotMatch(d.logs(), /Forcing berth daemon shutdown/);
  // Gaps between the signals: the kernel merges a signal sent while the same one is still pending.
  for (let i = 0; i < 2; i++) {
    d.proc.kill('SIGINT');
    await sleep(150);
  }
  assert.equal(await exitWithin(d, 10_000), 130);
});

test('SIGHUP reloads daemon.json as a transaction and emits a daemon reload event', async (t) => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const d = await fresh(t, { config: { 'log-level': 'info' } });
  const configFile = join(d.dir, 'daemon.json');
  const jobLines = (name: string) => logLines(d).filter((l) => l.msg === `+job ${name}`).length;

  assert.equal((await apiRequest(d.socket, 'GET', '/info')).status, 200);
  await sleep(100);
  assert.equal(jobLines('info'), 0, 'no debug lines at level info');

  // A valid change is applied.
  writeFileSync(configFile, JSON.stringify({ 'log-level': 'debug' }));
  d.proc.kill('SIGHUP');
  await waitForDaemon('configuration reloaded', () => logLines(d).some((l) => l.msg === 'configuration reloaded'), 10_000, d.logs);
  assert.equal((await apiRequest(d.socket, 'GET', '/info')).status, 200);
  await waitForDaemon('debug job lines', () => jobLines('info') >= 1, 5000, d.logs);

  // An invalid value is refused as a whole, naming the file and the key; the daemon keeps its level.
  writeFileSync(configFile, JSON.stringify({ 'log-level': 'loud' }));
  d.proc.kill('SIGHUP');
  const failures = () => logLines(d).filter((l) => /configuration reload failed/.test(String(l.msg)));
  await waitForDaemon('reload failure (bad value)', () => failures().length >= 1, 10_000, d.logs);
  const bad = JSON.stringify(failures()[0]);
  assert.ok(bad.includes(configFile), `names the file: ${bad}`);
  assert.ok(bad.includes('log-level'), `names the key: ${bad}`);
  const before = jobLines('info');
  const info = await apiRequest(d.socket, 'GET', '/info');
  assert.equal(info.status, 200, 'daemon keeps working');
  await waitForDaemon('debug level kept', () => jobLines('info') > before, 5000, d.logs);

  // A file that is not JSON is refused too.
  writeFileSync(configFile, '{"log-level": ');
  d.proc.kill('SIGHUP');
  await waitForDaemon('reload failure (invalid JSON)', () => failures().length >= 2, 10_000, d.logs);
  const broken = JSON.stringify(failures()[1]);
  assert.ok(broken.includes(configFile), `names the file: ${broken}`);
  assert.match(broken, /JSON/);
  assert.equal((await apiRequest(d.socket, 'GET', '/_ping')).status, 200);
  assert.equal(logLines(d).filter((l) => l.msg === 'configuration reloaded').length, 1, 'failed reloads are not reported as done');

  // Only the successful reload is an event.
  const until = Math.floor(Date.now() / 1000) + 2;
  const ev = await apiRequest(d.socket, 'GET', `/events?since=${since}&until=${until}`);
  assert.equal(ev.status, 200);
  const events = ev.body.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const reloads = events.filter((e) => e.Type === 'daemon' && e.Action === 'reload');
  assert.equal(reloads.length, 1, ev.body);
  assert.equal(reloads[0].Actor?.Attributes?.['log-level'], 'debug');
  assert.equal(d.proc.exitCode, null, 'still running');
});

test('the daemon refuses to run as a non-root user', async (t) => {
  const dir = makeTempDir();
  onCleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  const pidfile = join(dir, 'berth.pid');
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const p = spawn(BERTHD, [
      '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '-p', pidfile, '-H', `unix://${join(dir, 'berth.sock')}`,
    ], { uid: 65534, gid: 65534, cwd: '/', env: { ...process.env, HOME: '/nonexistent' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('error', reject);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stderr }); });
  });
  assert.notEqual(r.code, 0, r.stderr);
  assert.match(r.stderr, /\broot\b/, `stderr mentions root: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /EACCES|permission denied|not built yet/i, 'refused for being non-root, not by a file error');
  assert.ok(!existsSync(pidfile), 'no pid file');
  assert.ok(!existsSync(join(dir, 'data')), 'no data root created');
});

test('/_ping and /info answer, and the daemon ID survives a restart on the same data root', async (t) => {
  const d = await fresh(t);
  const ping = await apiRequest(d.socket, 'GET', '/_ping');
  assert.equal(ping.status, 200);
  assert.equal(ping.body, 'OK');
  const info = await apiRequest(d.socket, 'GET', '/info');
  assert.equal(info.status, 200);
  const id = info.json().ID;
  assert.equal(typeof id, 'string');
  assert.ok(id.length > 0);
  assert.equal(await d.stop('SIGTERM'), 0);

  const again = await startDaemon({ dir: d.dir });
  onCleanup(t, () => again.cleanup());
  const info2 = await apiRequest(again.socket, 'GET', '/info');
  assert.equal(info2.status, 200);
  assert.equal(info2.json().ID, id, 'same ID after restart');

  // ...while another data root is another daemon.
  const other = await fresh(t);
  assert.notEqual((await apiRequest(other.socket, 'GET', '/info')).json().ID, id);
});
