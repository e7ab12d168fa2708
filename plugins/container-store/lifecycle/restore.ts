// Daemon start (dockerd's restore): the recorded state of every container is reconciled with its
// runtime, then restart policies bring back what should run. Exits that happened while the daemon
// was down are recorded with their real code and time; a container whose monitor is gone without
// an exit record is never reported running.
import type { Logger } from 'pino';
import { BerthError, type JobEvent } from '../../../core/plugin-api.js';
import type { ExecDriver, RuntimeState } from '../../exec/index.js';
import type { RuntimesService } from '../../exec/index.js';
import type { GraphService } from '../../graph/index.js';
import { ZERO_TIME, type Container } from '../records/index.js';
import type { ContainerRuntime } from './lifecycle.js';
import { policyWantsRestart, stoppedState } from './restart-manager.js';
import type { ContainerStore } from '../records/index.js';

export interface RestoreOptions {
  store: ContainerStore;
  runtime: ContainerRuntime;
  runtimes: RuntimesService;
  graph: GraphService;
  log: Logger;
  /** With live-restore, running containers are adopted; without, they are stopped first. */
  liveRestore: boolean;
  publish: (e: JobEvent) => void;
}

/** dockerd's code for an exit nobody recorded. */
const UNKNOWN_EXIT = 255;

export async function restoreContainers(o: RestoreOptions): Promise<void> {
  await Promise.all(o.store.all().map((c) => reconcile(c, o).catch((err) => {
    o.log.warn({ err, container: c.Id }, 'cannot reconcile container with its runtime');
  })));
  await pruneRuntimes(o);
  // As dockerd: containers started before whose policy wants them running (always, unless-stopped
  // not stopped by the user, on-failure after a failure within its count) start again.
  const due = o.store.all().filter((c) => !c.State.Running && c.State.StartedAt !== ZERO_TIME
    && policyWantsRestart(c, c.State.ExitCode, Boolean(c.HasBeenManuallyStopped), c.RestartCount));
  await Promise.all(due.map((c) => o.runtime.start(c, o.publish).catch((err) => {
    o.log.error({ err, container: c.Id }, 'restart policy: cannot start the container at daemon start');
  })));
}

/**
 * What the runtimes hold that no running container owns goes: a daemon killed during `docker run`
 * leaves runtime containers created and never started (a live `runc init`, its monitor, its
 * cgroup) whose record says "created", or no record at all.
 */
async function pruneRuntimes(o: RestoreOptions): Promise<void> {
  const keep = new Set(o.store.all().filter((c) => c.State.Running).map((c) => c.Id));
  for (const name of o.runtimes.names()) {
    try {
      const driver = await o.runtimes.get(name);
      const gone = driver.prune ? await driver.prune(keep) : await deleteEach(driver, keep);
      if (gone.length) o.log.warn({ runtime: name, containers: gone }, 'removed runtime containers no running container owns');
    } catch (err) {
      o.log.warn({ err, runtime: name }, 'cannot reconcile the runtime\'s containers');
    }
  }
}

async function deleteEach(driver: ExecDriver, keep: ReadonlySet<string>): Promise<string[]> {
  const gone: string[] = [];
  for (const id of await driver.list()) {
    if (keep.has(id)) continue;
    await driver.delete(id);
    gone.push(id);
  }
  return gone;
}

async function reconcile(c: Container, o: RestoreOptions): Promise<void> {
  // A back-off the daemon's stop interrupted: its exit is recorded, the start-up pass decides.
  if (c.State.Restarting) {
    c.State = stoppedState(c.State);
    await o.store.save(c);
    return;
  }
  if (!c.State.Running) return;
  const driver = await o.runtimes.get((c.HostConfig.Runtime as string | undefined) || undefined);
  let state: RuntimeState | undefined;
  try {
    state = await driver.state(c.Id);
  } catch (err) {
    // The runtime no longer knows it (exec root wiped by a reboot): no monitor, no exit.
    if (!(err instanceof BerthError && err.code === 'E_NOT_FOUND')) throw err;
  }
  if (state?.exit) {
    await o.runtime.recordExit(c, state.exit);
    return;
  }
  const alive = state && (state.status === 'running' || state.status === 'paused') && state.monitor !== false;
  if (!alive) {
    // Recording the exit also deletes what is left in the runtime (an orphan process included).
    o.log.warn({ container: c.Id, status: state?.status ?? 'unknown' }, 'container monitor gone without an exit record: marking it exited');
    await o.runtime.recordExit(c, { exitCode: UNKNOWN_EXIT, finishedAt: new Date().toISOString(), oomKilled: false });
    return;
  }
  await o.graph.driver().get(c.Id);
  o.runtime.watchExit(c, driver);
  if (!o.liveRestore) {
    // Without live-restore a daemon start does not adopt containers left running (after a crash):
    // it stops them as its shutdown would have; the start-up pass restarts those with a policy.
    if (c.State.Paused) await o.runtime.unpause(c, () => {}).catch(() => {});
    await o.runtime.stop(c, undefined, o.publish, true);
  }
}
