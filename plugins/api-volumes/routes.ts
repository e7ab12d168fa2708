// The /volumes routes of the Engine API.
import type { PluginContext } from '../../core/plugin-api.js';
import type { ApiService } from '../api-server/index.js';
import { VOLUME_LIST_FILTERS, VOLUME_PRUNE_FILTERS } from '../volume/index.js';

export function mountVolumeRoutes(ctx: PluginContext, api: ApiService): void {
  const run = (req: Parameters<ApiService['origin']>[0], name: string, payload: unknown) => ctx.engine.run(name, payload, { origin: api.origin(req) });

  api.route('get', '/volumes', async (req, res) => {
    const filters = api.parseFilters(req.query.filters, VOLUME_LIST_FILTERS);
    api.sendJSON(res, 200, await run(req, 'volume.list', { filters }));
  });

  api.route('post', '/volumes/create', async (req, res) => {
    const config = (await api.readJson(req)) ?? {};
    api.checkBody(req, 'volume-create', config);
    api.sendJSON(res, 201, await run(req, 'volume.create', { config }));
  });

  api.route('post', '/volumes/prune', async (req, res) => {
    const filters = api.parseFilters(req.query.filters, VOLUME_PRUNE_FILTERS);
    // Below API 1.42 a prune takes every unused volume, named ones included.
    const all = !api.since(req, 'volume-prune-anonymous');
    api.sendJSON(res, 200, await run(req, 'volume.prune', { filters, all }));
  });

  api.route('get', '/volumes/:name', async (req, res) => {
    api.sendJSON(res, 200, await run(req, 'volume.inspect', { name: req.params.name }));
  });

  api.route('delete', '/volumes/:name', async (req, res) => {
    const force = ['1', 'true'].includes(String(req.query.force ?? ''));
    await run(req, 'volume.delete', { name: req.params.name, force });
    res.writeHead(204).end();
  });
}
