// The /networks routes of the Engine API.
import type { PluginContext } from '../../core/plugin-api.js';
import type { ApiService } from '../api-server/index.js';
import { NETWORK_LIST_FILTERS } from '../network/index.js';

export function mountNetworkRoutes(ctx: PluginContext, api: ApiService): void {
  const run = (req: Parameters<ApiService['origin']>[0], name: string, payload: unknown) => ctx.engine.run(name, payload, { origin: api.origin(req) });

  api.route('get', '/networks', async (req, res) => {
    const filters = api.parseFilters(req.query.filters, NETWORK_LIST_FILTERS);
    api.sendJSON(res, 200, await run(req, 'network.list', { filters }));
  });

  api.route('get', '/networks/:id', async (req, res) => {
    api.sendJSON(res, 200, await run(req, 'network.inspect', { name: req.params.id }));
  });

  api.route('post', '/networks/create', async (req, res) => {
    const config = (await api.readJson(req)) ?? {};
    api.checkBody(req, 'network-create', config);
    api.sendJSON(res, 201, await run(req, 'network.create', { config }));
  });

  api.route('post', '/networks/prune', async (req, res) => {
    const filters = api.parseFilters(req.query.filters, ['label', 'label!', 'until']);
    api.sendJSON(res, 200, await run(req, 'network.prune', { filters }));
  });

  api.route('delete', '/networks/:id', async (req, res) => {
    await run(req, 'network.delete', { name: req.params.id });
    res.writeHead(204).end();
  });

  api.route('post', '/networks/:id/connect', async (req, res) => {
    const body = ((await api.readJson(req)) ?? {}) as { Container?: string; EndpointConfig?: unknown };
    api.checkBody(req, 'network-connect', body);
    api.refuseUnsupported('POST /networks/{id}/connect', body);
    if (!body.Container) throw ctx.errors.invalid('no container specified');
    await run(req, 'network.connect', { name: req.params.id, container: body.Container, endpoint: body.EndpointConfig ?? {} });
    res.writeHead(200).end();
  });

  api.route('post', '/networks/:id/disconnect', async (req, res) => {
    const body = ((await api.readJson(req)) ?? {}) as { Container?: string; Force?: boolean };
    api.checkBody(req, 'network-disconnect', body);
    if (!body.Container) throw ctx.errors.invalid('no container specified');
    await run(req, 'network.disconnect', { name: req.params.id, container: body.Container, force: Boolean(body.Force) });
    res.writeHead(200).end();
  });
}
