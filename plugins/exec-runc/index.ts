// The exec-runc plugin: OCI runtime driver for runc and crun with conmon as the monitor; it
// registers them with the `runtimes` service. Its create() writes the container's config.json.
import { definePlugin } from '../../core/plugin-api.js';
import { registerRuntimes } from './register.js';

export { createRuncDriver, type RuncDriverOptions } from './runc-driver.js';
export { buildOciSpec, type HostFacts, type OciSpec } from './oci-spec.js';
export { resolveUser } from '../../lib/resolve-user.js';
export { listHostDevices } from './host-devices.js';
export { hostBoundingCapabilities, hostNofileLimit } from './host-limits.js';
export { readLogs } from './log-reader.js';

export default definePlugin({
  init(ctx) {
    registerRuntimes(ctx);
  },
});
