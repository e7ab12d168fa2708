// Network routes, mounted on the API server; the work is done by the network plugin's jobs.
import { definePlugin } from '../../core/plugin-api.js';
import type { ApiService } from '../api-server/index.js';
import { mountNetworkRoutes } from './routes.js';

export default definePlugin({
  init(ctx) {
    mountNetworkRoutes(ctx, ctx.services.get<ApiService>('api'));
  },
});
