// Routes for a container's resources: top, stats (streamed), update.
import type { PluginContext } from '../../core/plugin-api.js';
import type { ApiService } from '../api-server/index.js';

/** dockerd's BoolValueOrDefault: absent or empty is the default; "0", "no", "false", "none" are false. */
function boolOr(v: unknown, dflt: boolean): boolean {
  if (typeof v !== 'string' || v === '') return dflt;
  return !['0', 'no', 'false', 'none'].includes(v.toLowerCase());
}

export function mountResourceRoutes(ctx: PluginContext, api: ApiService): void {
  api.route('get', '/containers/:id/top', async (req, res) => {
    const psArgs = typeof req.query.ps_args === 'string' ? req.query.ps_args : '';
    api.sendJSON(res, 200, await ctx.engine.run('container.top', { name: req.params.id, psArgs }, { origin: api.origin(req) }));
  });

  api.route('get', '/containers/:id/stats', async (req, res) => {
    const stream = boolOr(req.query.stream, true);
    const oneShot = boolOr(req.query['one-shot'], false);
    if (stream && oneShot) throw ctx.errors.invalid('cannot have stream=true and one-shot=true');
    const job = ctx.engine.job('container.stats', { name: req.params.id, stream, oneShot }, { origin: api.origin(req), signal: api.clientGone(req, res) });
    await api.streamJob(job, res);
  });

  api.route('post', '/containers/:id/update', async (req, res) => {
    const config = (await api.readJson(req)) ?? {};
    api.checkBody(req, 'container-update', config);
    api.sendJSON(res, 200, await ctx.engine.run('container.update', { name: req.params.id, config }, { origin: api.origin(req) }));
  });
}
