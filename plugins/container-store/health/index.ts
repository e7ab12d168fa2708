// Healthchecks: their configuration and the monitor that runs them.
export { HealthMonitor } from './health-monitor.js';
export { validateHealthcheck } from './health-config.js';
