// A container's files: docker cp, diff, export and commit.
export { ContainerFs } from './container-fs.js';
export { registerFsJobs } from './fs-jobs.js';
