// docker exec: processes run inside a running container.
export { Execs, registerExecJobs } from './exec.js';
