// The vfs graph-driver plugin: registers the plain-copy driver with the graph service as the
// fallback (highest priority number), since it works on any file system.
import { definePlugin } from '../../core/plugins/context.js';
import type { DriverRegistration } from '../graph/index.js';
import { openVfs } from './vfs-driver.js';

export default definePlugin({
  init(ctx) {
    ctx.drivers.register<DriverRegistration>('graph', {
      name: 'vfs',
      api: '1.2.0', // GRAPH_DRIVER_API it implements: unpackTarget
      priority: 100,
      optionsSchema: { type: 'object', properties: {}, additionalProperties: false },
      probe: async () => ({ ok: true, reason: 'vfs works on any file system (plain copies)' }),
      open: ({ root, log }) => openVfs({ root, log }),
    });
  },
});
