// Daemon shutdown without live-restore (dockerd's Shutdown): every running container is stopped in
// parallel — its stop signal, SIGKILL after its StopTimeout — and its exit recorded, all within the
// daemon's shutdown deadline. With live-restore containers keep running under their monitors.
import type { Logger } from 'pino';
import type { ShutdownContext } from '../../../core/plugin-api.js';
import type { ContainerRuntime } from './lifecycle.js';
import type { ContainerStore } from '../records/index.js';

const DEFAULT_STOP_TIMEOUT_S = 10;
/** Kept from the deadline for the SIGKILL and the exit to be recorded. */
const MARGIN_S = 2;

export async function stopContainersOnShutdown(o: {
  store: ContainerStore; runtime: ContainerRuntime; log: Logger; liveRestore: boolean; context: ShutdownContext;
}): Promise<void> {
  // No restart policy acts from now on; containers waiting for a restart stay stopped.
  o.runtime.restarts.shutdown();
  if (o.liveRestore) return;
  const running = o.store.all().filter((c) => c.State.Running && !c.State.Restarting);
  const budget = Math.max(0, Math.floor((o.context.deadline - Date.now()) / 1000) - MARGIN_S);
  await Promise.all(running.map(async (c) => {
    const own = (c.Config as { StopTimeout?: number }).StopTimeout ?? DEFAULT_STOP_TIMEOUT_S;
    const timeout = Math.min(own < 0 ? budget : own, budget);
    try {
      // A frozen container would not see its stop signal.
      if (c.State.Paused) await o.runtime.unpause(c, () => {});
      await o.runtime.stop(c, timeout, () => {}, true);
      o.log.debug({ container: c.Id, exitCode: c.State.ExitCode }, 'container stopped at shutdown');
    } catch (err) {
      o.log.error({ err, container: c.Id }, 'failed to shut down container');
    }
  }));
}
