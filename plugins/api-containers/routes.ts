// The container route table: each route turns the request into a container job.
import type { PluginContext } from '../../core/plugins/context.js';
import type { ApiRequest, ApiService } from '../api-server/service.js';
import type { CreatePayload } from '../container-store/jobs.js';
import { CONTAINER_LIST_FILTERS } from '../container-store/views.js';

const truthy = (v: unknown) => v === '1' || v === 'true' || v === 'True';

export function mountContainerRoutes(ctx: PluginContext, api: ApiService): void {
  const run = <R>(req: ApiRequest, name: string, payload: unknown) => ctx.engine.run<R>(name, payload, { origin: api.origin(req) });

  api.route('post', '/containers/create', async (req, res) => {
    const body = await api.readJson(req);
    const name = typeof req.query.name === 'string' && req.query.name ? req.query.name : undefined;
    const payload: CreatePayload = { ...(name ? { name } : {}), config: (body ?? {}) as CreatePayload['config'] };
    api.sendJSON(res, 201, await run(req, 'container.create', payload));
  });

  api.route('get', '/containers/json', async (req, res) => {
    const filters = api.parseFilters(req.query.filters, CONTAINER_LIST_FILTERS);
    const limit = Number(req.query.limit ?? 0) || undefined;
    api.sendJSON(res, 200, await run(req, 'container.list', { all: truthy(req.query.all), filters, ...(limit ? { limit } : {}) }));
  });

  api.route('get', '/containers/:id/json', async (req, res) => {
    api.sendJSON(res, 200, await run(req, 'container.inspect', { name: req.params.id }));
  });

  api.route('post', '/containers/:id/rename', async (req, res) => {
    await run(req, 'container.rename', { name: req.params.id, newName: typeof req.query.name === 'string' ? req.query.name : '' });
    res.statusCode = 204;
    res.end();
  });

  api.route('delete', '/containers/:id', async (req, res) => {
    await run(req, 'container.delete', { name: req.params.id, force: truthy(req.query.force), volumes: truthy(req.query.v) });
    res.statusCode = 204;
    res.end();
  });

  api.route('post', '/containers/prune', async (req, res) => {
    const filters = api.parseFilters(req.query.filters, ['label', 'label!', 'until']);
    api.sendJSON(res, 200, await run(req, 'container.prune', { filters }));
  });
}
