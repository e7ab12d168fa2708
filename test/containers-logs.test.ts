// docker logs as dockerd's json-file driver behaves, with the real CLI, runc and conmon: log
// options checked at create, max-size/max-file rotation with no gap in what is kept, --tail across
// rotated files, the none driver, follow across restarts, --since/--until/--timestamps.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { docker, DOCKER_CONFIG, type DockerOptions, makeTempDir, onCleanup, type RunningDaemon, startDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';
import { waitFor } from './helpers/poll.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let d: RunningDaemon;
let work: string;
const followers: { kill: () => void }[] = [];
before(async () => {
  work = makeTempDir('berth-logs-');
  // A daemon-wide default option: merged into containers of the default driver.
  d = await startDaemon({ args: ['--log-opt', 'max-size=5m'] });
  await importBusybox(d.socket, work);
});
after(async () => {
  for (const f of followers) f.kill();
  await removeAllContainers(d.socket);
  await d?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

/** Polls `check` (bounded); returns its last truthy value or throws naming `what`. */
const until = <T>(what: string, check: () => T | Promise<T>, maxTries = 300, intervalMs = 50) =>
  waitFor(what, check, { maxTries, intervalMs, timeoutMs: maxTries * intervalMs });

const inspect = async (name: string) => JSON.parse((await docker(d.socket, ['inspect', name])).stdout)[0];
const logs = (args: string[], opts: DockerOptions = {}) => docker(d.socket, ['logs', ...args], opts);

/** `docker logs -f` in the background: its output so far, and its end (killed after 60 s). */
function follow(name: string) {
  const p = spawn('docker', ['-H', `unix://${d.socket}`, 'logs', '-f', name], {
    env: { ...process.env, DOCKER_CONFIG },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  p.stdout.on('data', (b) => (out += b));
  p.stderr.on('data', (b) => (out += b));
  const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
  const done = new Promise<number | null>((resolve) => p.on('close', (code) => { clearTimeout(timer); resolve(code); }));
  const f = { output: () => out, done, kill: () => p.kill('SIGKILL') };
  followers.push(f);
  return f;
}

/** The numbers of "line-N" lines, in order. */
const numbers = (text: string) => text.split('\n').filter((l) => l.startsWith('line-')).map((l) => Number(l.slice(5)));

const consecutive = (ns: number[]) => ns.every((n, i) => i === 0 || n === ns[i - 1] + 1);

test('log options are checked at create with dockerd\'s messages; inspect shows the merged LogConfig', async () => {
  const refused: [string[], RegExp][] = [
    [['--log-driver', 'nosuch'], /logger: no log driver named 'nosuch' is registered/],
    [['--log-opt', 'foo=bar'], /unknown log opt 'foo' for json-file log driver/],
    [['--log-opt', 'max-size=abc'], /invalid size: 'abc'/],
    [['--log-opt', 'max-size=10q'], /invalid suffix: 'q'/],
    [['--log-opt', 'max-size=0'], /max-size must be a positive number/],
    [['--log-opt', 'max-file=0'], /max-file cannot be less than 1/],
    [['--log-opt', 'max-file=two'], /strconv.Atoi: parsing "two": invalid syntax/],
    [['--log-opt', 'mode=fast'], /logger: logging mode not supported: fast/],
  ];
  for (const [flags, message] of refused) {
    const r = await docker(d.socket, ['create', '--name', 'bad-log', ...flags, 'busybox', 'true'], { expectCode: 'failure' });
    assert.match(r.stderr, message);
  }
  assert.equal((await docker(d.socket, ['ps', '-aq', '--filter', 'name=bad-log'])).stdout.trim(), '', 'nothing was created');

  assert.equal((await docker(d.socket, ['info', '--format', '{{.LoggingDriver}}'])).stdout.trim(), 'json-file');
  await docker(d.socket, ['create', '--name', 'lc-default', 'busybox', 'true']);
  assert.deepEqual((await inspect('lc-default')).HostConfig.LogConfig, { Type: 'json-file', Config: { 'max-size': '5m' } });
  await docker(d.socket, ['create', '--name', 'lc-own', '--log-opt', 'max-size=10k', '--log-opt', 'max-file=2', 'busybox', 'true']);
  assert.deepEqual((await inspect('lc-own')).HostConfig.LogConfig, { Type: 'json-file', Config: { 'max-size': '10k', 'max-file': '2' } });
  await docker(d.socket, ['rm', 'lc-default', 'lc-own']);
});

test('--log-driver none keeps no log: docker logs refuses with dockerd\'s message', async () => {
  const r = await docker(d.socket, ['run', '--name', 'nolog', '--log-driver', 'none', 'busybox', 'echo', 'hidden']);
  assert.equal(r.stdout, 'hidden\n', 'an attached client still gets the output');
  const c = await inspect('nolog');
  assert.deepEqual(c.HostConfig.LogConfig, { Type: 'none', Config: {} });
  assert.equal(c.LogPath, '');
  const l = await logs(['nolog'], { expectCode: 1 });
  assert.match(l.stderr, /configured logging driver does not support reading/);
  await docker(d.socket, ['rm', 'nolog']);
});

test('max-size=1k max-file=3: at most 3 files, the newest lines kept in order without gaps, --tail across files', async () => {
  const f = { follower: undefined as ReturnType<typeof follow> | undefined };
  // Bursts of 40 lines (about 2 KB), one per rotation check: several rotations, the first lines dropped.
  const script = 'i=0; b=0; while [ $b -lt 6 ]; do j=0; while [ $j -lt 40 ]; do echo line-$i; i=$((i+1)); j=$((j+1)); done; b=$((b+1)); sleep 1.2; done';
  await docker(d.socket, ['run', '-d', '--name', 'rot', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', script]);
  f.follower = follow('rot');
  const c = await inspect('rot');
  assert.deepEqual(c.HostConfig.LogConfig, { Type: 'json-file', Config: { 'max-size': '1k', 'max-file': '3' } });
  const dir = dirname(c.LogPath);
  const logFiles = () => readdirSync(dir).filter((n) => new RegExp(`^${basename(c.LogPath).replace('.', '\\.')}(\\.\\d+)?$`).test(n));
  let most = 0;
  await until('the container to end', async () => {
    most = Math.max(most, logFiles().length);
    assert.ok(logFiles().length <= 3, `log files: ${logFiles().join(' ')}`);
    return !(await inspect('rot')).State.Running;
  }, 400, 50);
  assert.ok(logFiles().length <= 3, `log files: ${logFiles().join(' ')}`);
  assert.equal(most, 3, 'the log was rotated into 3 files');

  const all = numbers((await logs(['rot'])).stdout);
  assert.equal(all[all.length - 1], 239, 'the last line is kept');
  assert.ok(all[0] > 0, 'the oldest lines were dropped');
  assert.ok(consecutive(all), `no gap within what is kept: ${all.join(',')}`);
  assert.deepEqual(numbers((await logs(['--tail', '5', 'rot'])).stdout), [235, 236, 237, 238, 239]);
  assert.deepEqual(numbers((await logs(['--tail', String(all.length - 1), 'rot'])).stdout), all.slice(1), '--tail reaching into the rotated files');
  assert.equal((await logs(['--tail', '0', 'rot'])).stdout, '');

  // The follower, started at the first lines, saw every line across the rotations, then ended.
  assert.equal(await f.follower.done, 0);
  const followed = numbers(f.follower.output());
  assert.equal(followed[followed.length - 1], 239);
  assert.ok(consecutive(followed), `follow has no gap: ${followed.join(',')}`);
  await docker(d.socket, ['rm', 'rot']);
});

test('a log renamed with no reopen after it (a daemon killed mid-rotation) is started again, nothing lost', async () => {
  const script = 'i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); sleep 0.1; done';
  await docker(d.socket, ['run', '-d', '--name', 'mid', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c', script]);
  const { LogPath } = await inspect('mid');
  await until('the first lines', async () => numbers((await logs(['mid'])).stdout).length >= 3);
  renameSync(LogPath, `${LogPath}.1`);
  await until('the log to be started again', () => existsSync(LogPath));
  await until('lines in the new log', () => readFileSync(LogPath, 'utf8').includes('line-'));
  const kept = numbers((await logs(['mid'])).stdout);
  assert.equal(kept[0], 0);
  assert.ok(consecutive(kept), kept.join(','));
  await docker(d.socket, ['rm', '-f', 'mid']);
});

test('logs -f goes on across docker restart and ends when the container stops for good', async () => {
  await docker(d.socket, ['run', '-d', '--name', 'fr', 'busybox', 'sh', '-c', 'echo started; trap "echo stopping; exit 0" TERM; while true; do sleep 0.1; done']);
  await until('the first run to print', async () => (await logs(['fr'])).stdout.includes('started'));
  const f = follow('fr');
  await until('the follower to print', () => f.output().includes('started'));
  await docker(d.socket, ['restart', '-t', '5', 'fr']);
  await until('the second run in the follower', () => f.output().split('started').length === 3);
  assert.equal(await Promise.race([f.done, sleep(500).then(() => 'following')]), 'following', 'the restart did not end the follow');
  await docker(d.socket, ['stop', '-t', '5', 'fr']);
  assert.equal(await f.done, 0, 'the follow ended by itself');
  assert.equal(f.output(), 'started\nstopping\nstarted\nstopping\n');
  await docker(d.socket, ['rm', 'fr']);
});

test('logs -f goes on across a restart policy\'s restarts and ends after the last one', async () => {
  await docker(d.socket, ['run', '-d', '--name', 'pol', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo boot; sleep 1; exit 3']);
  const f = follow('pol');
  assert.equal(await f.done, 0, 'the follow ended by itself');
  assert.equal(f.output(), 'boot\nboot\nboot\n', 'the first run and both restarts');
  const c = await inspect('pol');
  assert.equal(c.State.Status, 'exited');
  assert.equal(c.RestartCount, 2);
  await docker(d.socket, ['rm', 'pol']);
});

test('--timestamps as dockerd prints them; --since and --until with dates and durations', async () => {
  await docker(d.socket, ['run', '-d', '--name', 'ts', 'busybox', 'sh', '-c', 'echo early; echo early-err >&2; sleep 3; echo late']);
  assert.equal((await docker(d.socket, ['wait', 'ts'], { timeoutMs: 30_000 })).stdout.trim(), '0');
  const stamped = await logs(['-t', 'ts']);
  const rfc3339Nano = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (.*)$/;
  const lines = stamped.stdout.trim().split('\n').map((l) => rfc3339Nano.exec(l));
  assert.ok(lines.every(Boolean), stamped.stdout);
  assert.deepEqual(lines.map((m) => m![2]), ['early', 'late']);
  assert.match(stamped.stderr, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z early-err\n$/);
  const early = Date.parse(lines[0]![1]);
  const late = Date.parse(lines[1]![1]);
  assert.ok(late - early >= 2000, 'the sleep is between them');
  const between = new Date(early + 1000).toISOString();
  assert.equal((await logs(['--since', between, 'ts'])).stdout, 'late\n');
  assert.equal((await logs(['--until', between, 'ts'])).stdout, 'early\n');
  assert.equal((await logs(['--since', '10m', 'ts'])).stdout, 'early\nlate\n');
  assert.equal((await logs(['--since', '10m', '--until', between, 'ts'])).stdout, 'early\n');
  await docker(d.socket, ['rm', 'ts']);
});

/** Kills, by pid, processes a killed daemon left behind, if they are still ours (by command line or cgroup). */
function killLeftovers(pids: { pid: number; mark: string }[]): void {
  for (const { pid, mark } of pids) {
    let owned = false;
    try {
      owned = readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(mark) || readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(mark);
    } catch {
      continue;
    }
    try {
      if (owned) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

test('output written while the daemon is down is kept, and the log is rotated at the first check after start', async (t) => {
  const lrWork = makeTempDir('berth-logs-lr-');
  onCleanup(t, () => rmSync(lrWork, { recursive: true, force: true }));
  const first = await startDaemon({ args: ['--live-restore'] });
  onCleanup(t, () => first.cleanup());
  await importBusybox(first.socket, lrWork);
  const ctl = join(lrWork, 'ctl');
  mkdirSync(ctl);
  const script = 'until cat /ctl/go >/dev/null 2>&1; do sleep 0.1; done; i=0; while [ $i -lt 100 ]; do echo line-$i; i=$((i+1)); done; sleep 120';
  await docker(first.socket, ['run', '-d', '--name', 'down', '--log-opt', 'max-size=1k', '--log-opt', 'max-file=2', '-v', `${ctl}:/ctl`, 'busybox', 'sh', '-c', script]);
  const c = JSON.parse((await docker(first.socket, ['inspect', 'down'])).stdout)[0];
  const conmonPid = Number(readFileSync(join(first.execRoot, 'runtimes', 'runc', 'containers', c.Id, 'conmon.pid'), 'utf8'));
  const leftovers = [{ pid: c.State.Pid, mark: c.Id }, { pid: conmonPid, mark: c.Id }];
  onCleanup(t, () => killLeftovers(leftovers));

  first.proc.kill('SIGKILL');
  await first.exited;
  writeFileSync(join(ctl, 'go'), '');
  await until('the lines printed while the daemon is down', () => existsSync(c.LogPath) && readFileSync(c.LogPath, 'utf8').includes('line-99'));
  assert.ok(readFileSync(c.LogPath).length > 1000, 'the log grew past max-size with nobody to rotate it');

  const again = await startDaemon({ dir: first.dir, args: ['--live-restore'] });
  onCleanup(t, async () => {
    await docker(again.socket, ['rm', '-f', 'down'], { expectCode: 'any' }); // the daemon is stopped next, whatever this says
    await again.cleanup();
  });
  await until('the rotation after start', () => existsSync(`${c.LogPath}.1`));
  const kept = numbers((await docker(again.socket, ['logs', 'down'])).stdout);
  assert.deepEqual(kept, Array.from({ length: 100 }, (_, i) => i), 'nothing was lost');
});
