// The registry routes. POST /images/create?fromImage=… is mounted by api-images, which hands
// pulls to the image.pull job registered here.
import type { PluginContext } from '../../core/plugin-api.js';
import type { ApiRequest, ApiService } from '../api-server/index.js';
import { authFromBody, decodeAuthHeader } from '../../lib/registry-auth.js';

const nameParam = (req: ApiRequest) => {
  const n = req.params.name as unknown;
  return Array.isArray(n) ? n.join('/') : String(n);
};

export function mountRegistryRoutes(ctx: PluginContext, api: ApiService): void {
  api.route('post', '/images/*name/push', async (req, res) => {
    const tag = typeof req.query.tag === 'string' && req.query.tag ? req.query.tag : undefined;
    const auth = decodeAuthHeader(req.headers['x-registry-auth']);
    const job = ctx.engine.job('image.push', { name: nameParam(req), ...(tag ? { tag } : {}), ...(auth ? { auth } : {}) }, { origin: api.origin(req), signal: api.clientGone(req, res) });
    await api.streamJob(job, res);
  });

  api.route('post', '/auth', async (req, res) => {
    const auth = authFromBody(await api.readJson(req)) ?? {};
    api.sendJSON(res, 200, await ctx.engine.run('registry.login', auth, { origin: api.origin(req) }));
  });

  api.route('get', '/images/search', async (req, res) => {
    const term = typeof req.query.term === 'string' ? req.query.term : '';
    if (!term) throw ctx.errors.invalid('term is required');
    const limit = typeof req.query.limit === 'string' && req.query.limit ? Number(req.query.limit) : 25;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw ctx.errors.invalid(`limit ${req.query.limit} is outside the range of [1, 100]`);
    const filters = api.parseFilters(req.query.filters, ['stars', 'is-official', 'is-automated']);
    const auth = decodeAuthHeader(req.headers['x-registry-auth']);
    api.sendJSON(res, 200, await ctx.engine.run('registry.search', { term, limit, filters, ...(auth ? { auth } : {}) }, { origin: api.origin(req) }));
  });
}
