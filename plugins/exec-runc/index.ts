// The exec-runc plugin: OCI runtime driver for runc and crun with conmon as the monitor. The
// `runtimes` service that registers drivers is wired by the daemon; until then init only loads.
import { definePlugin } from '../../core/plugin-api.js';
import { registerRuntimes } from './register.js';

export { createRuncDriver, type RuncDriverOptions } from './runc-driver.js';
export { buildOciSpec, type SpecInput } from './oci-spec.js';
export { resolveUser } from '../../lib/resolve-user.js';
export { listHostDevices } from './host-devices.js';
export { hostBoundingCapabilities, hostNofileLimit } from './host-limits.js';
export { readLogs } from './log-reader.js';

export default definePlugin({
  init(ctx) {
    registerRuntimes(ctx);
  },
});
