// The image route table: each route turns the request into an image job.
import type { PluginContext } from '../../core/plugin-api.js';
import type { ApiRequest, ApiService } from '../api-server/index.js';
import { IMAGE_LIST_FILTERS } from '../image-store/index.js';
import { decodeAuthHeader } from '../../lib/registry-auth.js';

const truthy = (v: unknown) => v === '1' || v === 'true' || v === 'True';
const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
/** Image names may hold slashes (registry/repo:tag): the wildcard route gives them as segments. */
const nameParam = (req: ApiRequest) => {
  const n = req.params.name as unknown;
  return Array.isArray(n) ? n.join('/') : String(n);
};

export function mountImageRoutes(ctx: PluginContext, api: ApiService): void {
  const run = <R>(req: ApiRequest, name: string, payload: unknown) => ctx.engine.run<R>(name, payload, { origin: api.origin(req) });

  api.route('get', '/images/json', async (req, res) => {
    const filters = api.parseFilters(req.query.filters, IMAGE_LIST_FILTERS);
    const sharedSize = api.since(req, 'images-shared-size') && truthy(req.query['shared-size']);
    const list = await run(req, 'image.list', { all: truthy(req.query.all), filters, sharedSize });
    api.sendJSON(res, 200, api.adaptResponse(req, 'GET /images/json', list));
  });

  // Pulls are the registry plugin's job (image.pull); X-Registry-Auth travels in the payload.
  const pull = async (req: ApiRequest, res: Parameters<Parameters<ApiService['route']>[2]>[1]) => {
    if (!ctx.engine.has('image.pull')) throw ctx.errors.systemError('pulling images is not available: no registry plugin is loaded');
    const q = req.query;
    const auth = decodeAuthHeader(req.headers['x-registry-auth']);
    const payload = { fromImage: String(q.fromImage), ...(typeof q.tag === 'string' && q.tag ? { tag: q.tag } : {}), ...(typeof q.platform === 'string' && q.platform ? { platform: q.platform } : {}), ...(auth ? { auth } : {}) };
    await api.streamJob(ctx.engine.job('image.pull', payload, { origin: api.origin(req), signal: api.clientGone(req, res) }), res);
  };

  api.route('post', '/images/create', async (req, res) => {
    const q = req.query;
    if (q.fromImage !== undefined) return pull(req, res);
    if (typeof q.fromSrc !== 'string') throw ctx.errors.invalid('either fromImage or fromSrc must be given');
    const payload = {
      fromSrc: q.fromSrc,
      ...(typeof q.repo === 'string' && q.repo ? { repo: q.repo } : {}),
      ...(typeof q.tag === 'string' && q.tag ? { tag: q.tag } : {}),
      ...(typeof q.message === 'string' && q.message ? { message: q.message } : {}),
      changes: list(q.changes),
    };
    const job = ctx.engine.job('image.import', payload, { origin: api.origin(req), stdin: req, signal: api.clientGone(req, res) });
    await api.streamJob(job, res);
  }, { streamBody: true });

  api.route('post', '/images/load', async (req, res) => {
    const job = ctx.engine.job('image.load', { quiet: truthy(req.query.quiet) }, { origin: api.origin(req), stdin: req, signal: api.clientGone(req, res) });
    await api.streamJob(job, res);
  }, { streamBody: true });

  const save = async (req: ApiRequest, res: Parameters<Parameters<ApiService['route']>[2]>[1], names: string[]) => {
    const job = ctx.engine.job('image.save', { names }, { origin: api.origin(req), signal: api.clientGone(req, res) });
    await api.streamJob(job, res, 'application/x-tar');
  };
  api.route('get', '/images/get', (req, res) => save(req, res, list(req.query.names)));
  api.route('get', '/images/*name/get', (req, res) => save(req, res, [nameParam(req)]));

  api.route('get', '/images/*name/json', async (req, res) => {
    // Container and ContainerConfig stay at 1.44: docker-compose 1.29 reads ContainerConfig.
    api.sendJSON(res, 200, api.adaptResponse(req, 'GET /images/{name}/json', await run(req, 'image.inspect', { name: nameParam(req) })));
  });

  api.route('get', '/images/*name/history', async (req, res) => {
    api.sendJSON(res, 200, await run(req, 'image.history', { name: nameParam(req) }));
  });

  api.route('post', '/images/*name/tag', async (req, res) => {
    const repo = typeof req.query.repo === 'string' ? req.query.repo : '';
    const tag = typeof req.query.tag === 'string' && req.query.tag ? req.query.tag : undefined;
    await run(req, 'image.tag', { name: nameParam(req), repo, ...(tag ? { tag } : {}) });
    res.statusCode = 201;
    res.end();
  });

  api.route('delete', '/images/*name', async (req, res) => {
    api.sendJSON(res, 200, await run(req, 'image.delete', { name: nameParam(req), force: truthy(req.query.force), noprune: truthy(req.query.noprune) }));
  });

  api.route('post', '/images/prune', async (req, res) => {
    const filters = api.parseFilters(req.query.filters, ['dangling', 'until', 'label', 'label!']);
    api.sendJSON(res, 200, await run(req, 'image.prune', { filters }));
  });
}
