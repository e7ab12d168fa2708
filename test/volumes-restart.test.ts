// kill -9 of the daemon while containers use a tmpfs-backed local volume, then a restart: with
// --live-restore the adopted containers hold the volume again (still mounted, data there) and it is
// unmounted when the last of them stops; without, the restart stops them and the volume is unmounted.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { docker, makeTempDir, onCleanup, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';

const mounted = (path: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === path);

/** Kills, by pid, a container's processes a dead daemon left (checked by their cgroup first). */
function killLeftover(pid: number, id: string): void {
  try {
    if (!readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(id)) return;
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

async function setUp(t: { after: (fn: () => unknown) => void }, args: string[]) {
  const work = makeTempDir('berth-volrestart-');
  onCleanup(t, () => rmSync(work, { recursive: true, force: true }));
  const d = await startDaemon({ args });
  onCleanup(t, () => d.cleanup());
  await importBusybox(d.socket, work);
  await docker(d.socket, ['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=1m', 'tv']);
  const data = join(d.dataRoot, 'volumes', 'tv', '_data');
  // Whatever happens, the tmpfs goes before the data root is removed.
  onCleanup(t, () => { if (mounted(data)) execFileSync('umount', ['-l', data]); });
  const ids: string[] = [];
  for (const n of ['a', 'b']) {
    ids.push((await docker(d.socket, ['run', '-d', '--stop-timeout', '1', '--name', `tv-${n}`, '-v', 'tv:/data', 'busybox', 'sleep', '600'])).stdout.trim());
  }
  for (const id of ids) {
    const pid = Number((await docker(d.socket, ['inspect', '--format', '{{.State.Pid}}', id])).stdout.trim());
    onCleanup(t, () => killLeftover(pid, id));
  }
  await docker(d.socket, ['exec', 'tv-a', 'sh', '-c', 'echo survived > /data/f']);
  assert.ok(mounted(data));
  d.proc.kill('SIGKILL');
  await d.exited;
  assert.ok(mounted(data), 'the kernel keeps the tmpfs while the daemon is down');
  const again = await startDaemon({ dir: d.dir, args });
  onCleanup(t, async () => {
    await removeAllContainers(again.socket);
    await again.cleanup();
  });
  return { d: again, data };
}

test('live restore: the tmpfs volume stays mounted for the adopted containers and goes with the last of them', async (t) => {
  const { d, data } = await setUp(t, ['--live-restore']);
  assert.equal((await docker(d.socket, ['exec', 'tv-b', 'cat', '/data/f'])).stdout.trim(), 'survived');
  assert.ok(mounted(data));
  await docker(d.socket, ['stop', 'tv-a']);
  assert.ok(mounted(data), 'still used by tv-b');
  await docker(d.socket, ['stop', 'tv-b']);
  assert.equal(mounted(data), false, 'unmounted when the last user stopped');
  await docker(d.socket, ['start', 'tv-a']);
  assert.ok(mounted(data), 'mounted again on the next start');
  await docker(d.socket, ['rm', '-f', 'tv-a', 'tv-b']);
  assert.equal(mounted(data), false);
  await docker(d.socket, ['volume', 'rm', 'tv']);
});

test('without live restore: the restart stops the containers and the volume is unmounted', async (t) => {
  const { d, data } = await setUp(t, []);
  assert.equal((await docker(d.socket, ['ps', '-q'])).stdout.trim(), '');
  assert.equal(mounted(data), false);
  await docker(d.socket, ['rm', 'tv-a', 'tv-b']);
  await docker(d.socket, ['volume', 'rm', 'tv']);
});
