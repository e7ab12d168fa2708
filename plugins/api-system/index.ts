// System routes and jobs; publishes the `system` service whose hooks other plugins tap.
import { definePlugin } from '../../core/plugin-api.js';
import type { ApiService } from '../api-server/index.js';
import { mountSystemRoutes } from './routes.js';
import { createSystemHooks, SYSTEM_SERVICE_VERSION, type SystemService } from './service.js';
import { registerSystemJobs } from './system-jobs.js';

export type { SystemService, Info } from './service.js';
export { addWarnings } from './service.js';

export default definePlugin({
  init(ctx) {
    const system: SystemService = { serviceVersion: SYSTEM_SERVICE_VERSION, hooks: createSystemHooks() };
    ctx.services.provide('system', system);
    registerSystemJobs(ctx, system);
    mountSystemRoutes(ctx, ctx.services.get<ApiService>('api'));
  },
});
