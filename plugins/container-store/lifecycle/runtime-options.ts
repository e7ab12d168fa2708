// What the container runtime takes from the daemon's configuration and who follows its state.
import type { ContainerHooks } from '../hooks.js';
import type { Container } from '../records/index.js';

/** Told when a container's process starts, stops or resumes running (the health monitor). Calls
 * come before the new state is saved, so changes made to c.State are saved with it. */
export interface LifecycleObserver {
  /** A start: the container runs from scratch. */
  started(c: Container): void;
  /** It stopped running: an exit, or a pause. */
  stopped(c: Container): void;
  /** It runs again as it was: an unpause, or a daemon restart that found it running. */
  resumed(c: Container): void;
}

export interface RuntimeOptions {
  /** The daemon-wide `init` and `init-path` keys (dockerd's --init, --init-path). */
  init?: { enabled: boolean; path?: string };
  observer?: LifecycleObserver;
  /** The containers service's hooks: other plugins' part in a container's run (networks, volumes). */
  hooks?: ContainerHooks;
}
