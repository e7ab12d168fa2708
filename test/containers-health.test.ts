// Healthchecks with the real CLI, runc and conmon: docker run --health-*, State.Health in inspect,
// docker ps status and health filter, health_status events, --no-healthcheck.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { docker, type DockerOptions, makeTempDir, type RunningDaemon, startDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';
import { waitFor } from './helpers/poll.js';

let d: RunningDaemon;
let work: string;
let daemonDir: string;
let rootfs: string;
before(async () => {
  work = makeTempDir('berth-health-');
  // Live restore: the restart test needs its container to outlive the first daemon.
  d = await startDaemon({ args: ['--live-restore'] });
  daemonDir = d.dir;
  rootfs = await importBusybox(d.socket, work);
});
after(async () => {
  await removeAllContainers(d.socket);
  await d?.cleanup();
  // A daemon restarted on the first one's folders leaves them to us.
  if (daemonDir) rmSync(daemonDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const run = (args: string[], opts: DockerOptions = {}) => docker(d.socket, args, { timeoutMs: 60_000, ...opts });
const inspect = async (name: string) => JSON.parse((await docker(d.socket, ['inspect', name])).stdout)[0];

/** Polls inspect until `ok` holds for the container's State (at most 60 tries, 0.5 s apart). */
async function waitState(name: string, ok: (state: any) => boolean): Promise<any> {
  let state: any;
  return waitFor(`container ${name} to reach the expected state`, async () => {
    state = (await inspect(name)).State;
    return ok(state) && state;
  }, { maxTries: 60, intervalMs: 500, timeoutMs: 60_000, detail: () => `last state: ${JSON.stringify(state)}` });
}

const psNames = async (filter: string) =>
  (await docker(d.socket, ['ps', '--filter', filter, '--format', '{{.Names}}'])).stdout.trim().split('\n').filter(Boolean);

test('--health-cmd true: starting, then healthy; ps shows it; health_status event; stop leaves it unhealthy', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  await run(['run', '-d', '--name', 'ok1', '--health-cmd', 'true', '--health-interval', '1s', 'busybox', 'sleep', '1000']);
  const c = await inspect('ok1');
  assert.deepEqual(c.Config.Healthcheck.Test, ['CMD-SHELL', 'true']);
  assert.ok(['starting', 'healthy'].includes(c.State.Health.Status), c.State.Health.Status);

  const state = await waitState('ok1', (s) => s.Health?.Status === 'healthy');
  assert.equal(state.Health.FailingStreak, 0);
  const last = state.Health.Log.at(-1);
  assert.equal(last.ExitCode, 0);
  assert.ok(Date.parse(last.End) >= Date.parse(last.Start));
  assert.match((await docker(d.socket, ['ps', '--filter', 'name=ok1', '--format', '{{.Status}}'])).stdout, /^Up .* \(healthy\)$/m);
  assert.ok((await psNames('health=healthy')).includes('ok1'));
  assert.ok(!(await psNames('health=unhealthy')).includes('ok1'));
  assert.ok(!(await psNames('health=none')).includes('ok1'));
  assert.match((await docker(d.socket, ['ps', '--filter', 'health=bogus'], { expectCode: 'failure' })).stderr, /Invalid filter 'health=bogus'/);

  const until = String(Math.floor(Date.now() / 1000) + 1);
  const events = (await docker(d.socket, ['events', '--since', String(since), '--until', until, '--filter', 'container=ok1', '--filter', 'event=health_status', '--format', '{{.Action}}'])).stdout.trim().split('\n');
  assert.deepEqual(events, ['health_status: healthy']);
  const execs = (await docker(d.socket, ['events', '--since', String(since), '--until', until, '--filter', 'container=ok1', '--format', '{{.Action}}'])).stdout;
  assert.match(execs, /^exec_create: \/bin\/sh -c true$/m);
  assert.match(execs, /^exec_start: \/bin\/sh -c true$/m);
  assert.match(execs, /^exec_die$/m);

  await docker(d.socket, ['stop', '-t', '1', 'ok1']);
  // dockerd marks a stopped monitor's container unhealthy; the next start begins again.
  assert.equal((await inspect('ok1')).State.Health.Status, 'unhealthy');
  await docker(d.socket, ['start', 'ok1']);
  await waitState('ok1', (s) => s.Health?.Status === 'healthy');
});

test('--health-cmd "exit 1" --health-retries 2: unhealthy with a failing streak and the failures logged', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  await run(['run', '-d', '--name', 'bad1', '--health-cmd', 'echo failing; exit 1', '--health-interval', '1s', '--health-retries', '2', 'busybox', 'sleep', '1000']);
  const state = await waitState('bad1', (s) => s.Health?.Status === 'unhealthy');
  assert.ok(state.Health.FailingStreak >= 2, JSON.stringify(state.Health));
  assert.ok(state.Health.Log.length >= 2 && state.Health.Log.length <= 5);
  for (const entry of state.Health.Log) {
    assert.equal(entry.ExitCode, 1);
    assert.equal(entry.Output, 'failing\n');
  }
  assert.ok((await psNames('health=unhealthy')).includes('bad1'));
  assert.match((await docker(d.socket, ['ps', '--filter', 'name=bad1', '--format', '{{.Status}}'])).stdout, /\(unhealthy\)/);
  const until = String(Math.floor(Date.now() / 1000) + 1);
  const events = (await docker(d.socket, ['events', '--since', String(since), '--until', until, '--filter', 'container=bad1', '--filter', 'event=health_status', '--format', '{{.Action}}'])).stdout.trim();
  assert.equal(events, 'health_status: unhealthy');
});

test('a probe past --health-timeout is killed and logged as a timeout', async () => {
  await run(['run', '-d', '--name', 'slow1', '--health-cmd', 'sleep 30', '--health-timeout', '1s', '--health-interval', '1s', '--health-retries', '1', 'busybox', 'sleep', '1000']);
  const state = await waitState('slow1', (s) => s.Health?.Log?.length > 0);
  const entry = state.Health.Log[0];
  assert.equal(entry.ExitCode, -1);
  assert.equal(entry.Output, 'Health check exceeded timeout (1s)');
  // The probe was killed (SIGKILL: 137), not left to run out.
  const until = String(Math.floor(Date.now() / 1000) + 1);
  const dies = (await docker(d.socket, ['events', '--since', '0', '--until', until, '--filter', 'container=slow1', '--filter', 'event=exec_die', '--format', '{{.Actor.Attributes.exitCode}}'])).stdout.trim().split('\n');
  assert.equal(dies[0], '137');
  assert.equal((await waitState('slow1', (s) => s.Health?.Status === 'unhealthy')).Health.FailingStreak >= 1, true);
});

test('--health-start-period: failures within it do not count, the status stays starting', async () => {
  await run(['run', '-d', '--name', 'sp1', '--health-cmd', 'exit 1', '--health-start-period', '1h', '--health-retries', '1', 'busybox', 'sleep', '1000']);
  // Within the start period probes come every start interval (5 s by default); with one retry,
  // a counted failure would make it unhealthy at once.
  const state = await waitState('sp1', (s) => s.Health?.Log?.length >= 1);
  assert.equal(state.Health.Status, 'starting');
  assert.equal(state.Health.FailingStreak, 0);
  assert.ok(state.Health.Log.every((e: { ExitCode: number }) => e.ExitCode === 1));
  assert.match((await docker(d.socket, ['ps', '--filter', 'name=sp1', '--format', '{{.Status}}'])).stdout, /\(health: starting\)/);
  assert.ok((await psNames('health=starting')).includes('sp1'));
});

test('--no-healthcheck and an image without one: no State.Health, ps health=none', async () => {
  await run(['run', '-d', '--name', 'none1', '--no-healthcheck', 'busybox', 'sleep', '1000']);
  await run(['run', '-d', '--name', 'none2', 'busybox', 'sleep', '1000']);
  const c = await inspect('none1');
  assert.deepEqual(c.Config.Healthcheck.Test, ['NONE']);
  assert.equal(c.State.Health, undefined);
  assert.equal((await inspect('none2')).State.Health, undefined);
  const none = await psNames('health=none');
  assert.ok(none.includes('none1') && none.includes('none2'), none.join(','));
  assert.doesNotMatch((await docker(d.socket, ['ps', '--filter', 'name=none1', '--format', '{{.Status}}'])).stdout, /\(/);
});

test('an image\'s HEALTHCHECK (docker import -c): used by its containers, completed by --health-*, off with --no-healthcheck', async () => {
  await docker(d.socket, ['import', '-c', 'HEALTHCHECK --interval=1s --retries=2 CMD ["true"]', rootfs, 'hc:latest']);
  const img = JSON.parse((await docker(d.socket, ['image', 'inspect', 'hc', '--format', '{{json .Config.Healthcheck}}'])).stdout);
  assert.deepEqual(img, { Test: ['CMD', 'true'], Interval: 1e9, Retries: 2 });
  await run(['run', '-d', '--name', 'img1', 'hc', 'sleep', '1000']);
  await waitState('img1', (s) => s.Health?.Status === 'healthy');
  await run(['run', '-d', '--name', 'img2', '--health-retries', '5', 'hc', 'sleep', '1000']);
  const merged = (await inspect('img2')).Config.Healthcheck;
  assert.deepEqual([merged.Test, merged.Interval, merged.Retries], [['CMD', 'true'], 1e9, 5]);
  await run(['run', '-d', '--name', 'img3', '--no-healthcheck', 'hc', 'sleep', '1000']);
  assert.equal((await inspect('img3')).State.Health, undefined);
  const bad = await docker(d.socket, ['import', '-c', 'HEALTHCHECK BOGUS x', rootfs, 'hc:bad'], { expectCode: 'failure' });
  assert.match(bad.stderr, /Unknown type "BOGUS" in HEALTHCHECK \(try CMD\)/);
});

test('a bad healthcheck setting is refused at create with dockerd\'s message', async () => {
  const r = await docker(d.socket, ['create', '--health-cmd', 'true', '--health-interval', '1us', 'busybox'], { expectCode: 'failure' });
  assert.match(r.stderr, /Interval in Healthcheck cannot be less than 1ms/);
});

test('paused: probes stop (unhealthy, as dockerd); unpaused: they resume', async () => {
  await run(['run', '-d', '--name', 'p1', '--health-cmd', 'true', '--health-interval', '1s', 'busybox', 'sleep', '1000']);
  await waitState('p1', (s) => s.Health?.Status === 'healthy');
  await docker(d.socket, ['pause', 'p1']);
  const paused = (await inspect('p1')).State;
  assert.equal(paused.Health.Status, 'unhealthy');
  await docker(d.socket, ['unpause', 'p1']);
  await waitState('p1', (s) => s.Health?.Status === 'healthy');
});

test('after a daemon restart, the monitor of a running container resumes', async () => {
  await run(['run', '-d', '--name', 'live1', '--health-cmd', 'true', '--health-interval', '1s', 'busybox', 'sleep', '1000']);
  const before = await waitState('live1', (s) => s.Health?.Status === 'healthy');
  const lastEnd = Date.parse(before.Health.Log.at(-1).End);
  await d.stop('SIGTERM');
  d = await startDaemon({ dir: d.dir, args: ['--live-restore'] });
  // A probe that ended after the restart: the new daemon probes again.
  const resumed = await waitState('live1', (s) => s.Running && Date.parse(s.Health?.Log?.at(-1)?.End ?? '') > lastEnd);
  assert.equal(resumed.Health.Status, 'healthy');
});
