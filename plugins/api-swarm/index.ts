// Swarm routes, mounted on the API server: the answers of a dockerd outside any swarm.
import { definePlugin } from '../../core/plugin-api.js';
import type { ApiService } from '../api-server/index.js';
import { mountSwarmRoutes } from './routes.js';

export { NOT_A_MANAGER, NOT_IN_A_SWARM, NO_SWARM_MODE } from './routes.js';

export default definePlugin({
  init(ctx) {
    mountSwarmRoutes(ctx, ctx.services.get<ApiService>('api'));
  },
});
