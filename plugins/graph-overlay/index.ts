// The overlay graph-driver plugin: registers the overlayfs driver with the graph service as the
// preferred one, where a probe mount shows that overlay works under the data root.
import { definePlugin } from '../../core/plugin-api.js';
import type { DriverRegistration } from '../graph/index.js';
import { openOverlay } from './overlay-driver.js';
import { probeOverlay } from './probe.js';

export default definePlugin({
  init(ctx) {
    ctx.drivers.register<DriverRegistration>('graph', {
      name: 'overlay',
      api: '1.3.0', // GRAPH_DRIVER_API it implements: unpackTarget, independentLayers, metadata
      priority: 10,
      // No quota support: any --storage-opt is refused, naming the key.
      optionsSchema: { type: 'object', properties: {}, additionalProperties: false },
      probe: probeOverlay,
      open: ({ root, log }) => openOverlay({ root, log }),
    });
  },
});
