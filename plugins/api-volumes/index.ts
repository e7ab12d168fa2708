// Volume routes, mounted on the API server; the work is done by the volume plugin's jobs.
import { definePlugin } from '../../core/plugin-api.js';
import type { ApiService } from '../api-server/index.js';
import { mountVolumeRoutes } from './routes.js';

export default definePlugin({
  init(ctx) {
    mountVolumeRoutes(ctx, ctx.services.get<ApiService>('api'));
  },
});
