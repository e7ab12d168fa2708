// Container records on disk, their names, and what inspect and list show of them.
export { containerEvent, registerContainerJobs } from './jobs.js';
export { ContainerStore } from './store.js';
export { type Container, type ContainerHealth, type ContainerState, type HealthLogEntry, type HostConfig, ZERO_TIME } from './container.js';
