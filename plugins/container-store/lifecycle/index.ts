// Running containers: start, stop, kill, wait, attach, restart policies, restore at start and stop at shutdown.
export { ContainerRuntime, pipeStdio } from './lifecycle.js';
export { restoreContainers } from './restore.js';
export { registerRunJobs } from './run-jobs.js';
export { stopContainersOnShutdown } from './shutdown.js';
export { registerTtyJobs } from './tty-jobs.js';
export { parseDetachKeys } from './detach-keys.js';
export { DEFAULT_PATH } from './runtime-spec.js';
export { containerEnv, replaceOrAppendEnv } from './process-env.js';
export { validateRestartPolicy } from './restart-manager.js';
export { adaptNamespaceModes } from './namespaces.js';
export { type LifecycleObserver } from './runtime-options.js';
export { ContainerLocks } from './container-locks.js';
