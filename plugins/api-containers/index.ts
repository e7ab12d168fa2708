// Container routes, mounted on the API server; the work is done by the container store's jobs.
import { definePlugin } from '../../core/plugin-api.js';
import type { ApiService } from '../api-server/index.js';
import { mountArchiveRoutes } from './archive-routes.js';
import { mountContainerRoutes } from './routes.js';
import { mountTtyRoutes } from './tty-routes.js';
import { mountResourceRoutes } from './resource-routes.js';

export default definePlugin({
  init(ctx) {
    mountContainerRoutes(ctx, ctx.services.get<ApiService>('api'));
    mountArchiveRoutes(ctx, ctx.services.get<ApiService>('api'));
    mountTtyRoutes(ctx, ctx.services.get<ApiService>('api'));
    mountResourceRoutes(ctx, ctx.services.get<ApiService>('api'));
  },
});
