// Image routes, mounted on the API server; the work is done by the image store's jobs.
import { definePlugin } from '../../core/plugin-api.js';
import type { ApiService } from '../api-server/index.js';
import { mountImageRoutes } from './routes.js';

export default definePlugin({
  init(ctx) {
    mountImageRoutes(ctx, ctx.services.get<ApiService>('api'));
  },
});
