// Container logs: the log configuration, rotation and docker logs.
export { type LogConfig, daemonLogConfig, logConfigOf, resolveLogConfig, validateLogConfig } from './log-config.js';
export { LogRotator } from './log-rotation.js';
export { registerLogsJob } from './logs-job.js';
