// The busybox image the container tests run, and the clean-up of the containers they made.
import { rmSync } from 'node:fs';
import { after, before } from 'node:test';
import { docker, makeTempDir, startDaemon, type RunningDaemon, type StartOptions } from './daemon.js';
import { makeBusyboxRootfs } from './rootfs.js';

const made = new Map<string, string>();

/**
 * Imports a busybox root file system as busybox:latest; returns the tar's path. The tar is made
 * in `work` once, so several daemons of one test file get the very same image.
 */
export async function importBusybox(socket: string, work: string, opts: { changes?: string[]; files?: Record<string, string> } = {}): Promise<string> {
  const changes = opts.changes ?? ['CMD ["sh"]'];
  let tar = made.get(work);
  if (!tar) made.set(work, (tar = makeBusyboxRootfs(work, opts.files).path));
  await docker(socket, ['import', ...changes.flatMap((c) => ['-c', c]), tar, 'busybox:latest']);
  return tar;
}

/**
 * Removes every container of a daemon, running or not (docker rm -f). For after hooks: a failure
 * here must not keep the hook from stopping the daemon, so the exit codes are not checked.
 */
export async function removeAllContainers(socket: string): Promise<void> {
  const ids = (await docker(socket, ['ps', '-aq'], { expectCode: 'any' })).stdout.trim().split('\n').filter(Boolean);
  if (ids.length) await docker(socket, ['rm', '-f', ...ids], { expectCode: 'any' });
}

/**
 * For a test file: a daemon of its own with busybox:latest, started before its tests; after them its
 * containers are removed (running ones too), the daemon stops and the work folder goes. `use`
 * receives both once they are there.
 */
export function withBusyboxDaemon(prefix: string, use: (d: RunningDaemon, work: string) => void, opts: StartOptions = {}): void {
  let d: RunningDaemon | undefined;
  let work: string | undefined;
  before(async () => {
    work = makeTempDir(prefix);
    d = await startDaemon(opts);
    await importBusybox(d.socket, work);
    use(d, work);
  });
  after(async () => {
    if (d) {
      await removeAllContainers(d.socket);
      await d.cleanup();
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });
}
