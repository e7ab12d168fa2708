// Fault suite, broken state files: a truncated or garbage config.v2.json of a stopped and of a
// running container. Start-up must keep what it cannot read (moved aside with its logs, never
// deleted), say so in the log and in docker info's Warnings, leave the container's read-write
// layer in place, and serve everything else.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { apiRequest, docker, makeTempDir, onCleanup, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { importBusybox } from './helpers/busybox.js';
import { namesIn, unmountUnder } from './helpers/small-disk.js';

test('corrupt container records are moved aside and reported, never deleted; their layers stay', async (t) => {
  const work = makeTempDir('berth-fault-work-');
  onCleanup(t, () => rmSync(work, { recursive: true, force: true }));
  const d = await startDaemon({ args: ['--live-restore'] });
  const pids: number[] = [];
  let ids: string[] = [];
  onCleanup(t, async () => {
    // The running ones are no longer the daemon's: end their processes and runtime state here.
    for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    await new Promise((r) => setTimeout(r, 300));
    const runcRoot = join(d.execRoot, 'runtimes', 'runc', 'runtime');
    for (const id of ids) { try { execFileSync('runc', ['--root', runcRoot, 'delete', '--force', id], { stdio: 'ignore' }); } catch { /* not there */ } }
    await d.stop();
    // Their network namespaces too (the network plugin no longer knows them either).
    unmountUnder(d.dir);
    await d.cleanup();
  });
  await importBusybox(d.socket, work);
  const make = async (running: boolean) => {
    const r = running
      ? await docker(d.socket, ['run', '-d', 'busybox', 'sh', '-c', 'echo hello-log; sleep 1000'])
      : await docker(d.socket, ['run', '-d', 'busybox', 'sh', '-c', 'echo hello-log']);
    const id = r.stdout.trim();
    if (!running) await docker(d.socket, ['wait', id]);
    else pids.push((await apiRequest(d.socket, 'GET', `/containers/${id}/json`)).json().State.Pid);
    return id;
  };
  const stoppedTruncated = await make(false);
  const stoppedGarbage = await make(false);
  const runningTruncated = await make(true);
  const runningGarbage = await make(true);
  const healthy = await make(false);
  ids = [stoppedTruncated, stoppedGarbage, runningTruncated, runningGarbage, healthy];
  await d.stop(); // live-restore: the running ones keep running

  const record = (id: string) => join(d.dataRoot, 'containers', id, 'config.v2.json');
  for (const id of [stoppedTruncated, runningTruncated]) {
    const text = readFileSync(record(id));
    writeFileSync(record(id), text.subarray(0, Math.floor(text.length / 2)));
  }
  for (const id of [stoppedGarbage, runningGarbage]) writeFileSync(record(id), Buffer.from([0x00, 0xff, 0x13, 0x37, 0x7b, 0x22, 0xfe]));
  const broken = [stoppedTruncated, stoppedGarbage, runningTruncated, runningGarbage];

  let again: RunningDaemon | undefined = await startDaemon({ dir: d.dir, args: ['--live-restore'] });
  onCleanup(t, () => again?.cleanup());
  const listed = (await docker(again.socket, ['ps', '-aq', '--no-trunc'])).stdout.trim().split('\n');
  assert.deepEqual(listed, [healthy], 'the readable container is served, the others are not');
  const aside = join(again.dataRoot, 'containers', '.corrupt');
  const info = (await apiRequest(again.socket, 'GET', '/info')).json();
  const logs = again.logs().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  for (const id of broken) {
    assert.ok(!existsSync(join(again.dataRoot, 'containers', id)), 'moved out of the way');
    const kept = namesIn(aside).filter((n) => n.startsWith(id));
    assert.equal(kept.length, 1, `kept aside: ${namesIn(aside)}`);
    assert.ok(existsSync(join(aside, kept[0], 'config.v2.json')), 'the record is kept');
    assert.match(readFileSync(join(aside, kept[0], 'container.log'), 'utf8'), /hello-log/, 'the logs are kept');
    assert.ok(logs.some((l) => l.container === id && l.level >= 50 && /failed to load container/.test(l.msg)), `logged for ${id}`);
    assert.ok((info.Warnings ?? []).some((w: string) => w.includes(id) && w.includes(aside)), `warned for ${id}: ${JSON.stringify(info.Warnings)}`);
    assert.ok(existsSync(join(again.dataRoot, 'overlay', id)), 'its read-write layer is left alone');
  }
  // The running ones run on, unseen by the daemon, until the operator decides.
  for (const pid of pids) assert.doesNotThrow(() => process.kill(pid, 0));
  // A second start still reports them; the image and its layers are intact.
  await again.stop();
  again = await startDaemon({ dir: d.dir, args: ['--live-restore'] });
  const info2 = (await apiRequest(again.socket, 'GET', '/info')).json();
  for (const id of broken) assert.ok((info2.Warnings ?? []).some((w: string) => w.includes(id)), 'still reported');
  const r = await docker(again.socket, ['run', '--rm', 'busybox', 'echo', 'ok']);
  assert.equal(r.stdout.trim(), 'ok', r.stderr);
});
