// Resources: limits, docker update, docker top and docker stats.
export { registerResourceJobs } from './resource-jobs.js';
export { adaptCreateResources } from './resource-limits.js';
