// The system route table: each route runs its job and writes the answer as dockerd does.
import type { PluginContext } from '../../core/plugin-api.js';
import type { ApiService, RouteHandler } from '../api-server/index.js';
import { EVENT_FILTER_KEYS, type EventsPayload } from '../events/index.js';

const DF_TYPES: Record<string, string[]> = { container: ['Containers'], image: ['LayersSize', 'Images'], volume: ['Volumes'], 'build-cache': ['BuildCache'] };

export function mountSystemRoutes(ctx: PluginContext, api: ApiService): void {
  api.route('get', '/version', async (req, res) => {
    api.sendJSON(res, 200, await ctx.engine.run('version', undefined, { origin: api.origin(req) }));
  }, { early: true });

  api.route('get', '/info', async (req, res) => {
    api.sendJSON(res, 200, api.adaptResponse(req, 'GET /info', await ctx.engine.run('info', undefined, { origin: api.origin(req) })));
  });

  api.route('get', '/system/df', async (req, res) => {
    const raw = req.query.type;
    const types = raw === undefined || !api.since(req, 'df-type') ? undefined : Array.isArray(raw) ? raw : [raw];
    for (const t of types ?? []) if (!DF_TYPES[t]) throw ctx.errors.invalid(`unknown object type: ${t}`);
    const usage = await ctx.engine.run<Record<string, unknown>>('system.df', undefined, { origin: api.origin(req) });
    const keep = types && new Set(types.flatMap((t) => DF_TYPES[t]));
    const answer = keep ? Object.fromEntries(Object.entries(usage).filter(([k]) => keep.has(k))) : usage;
    api.sendJSON(res, 200, api.adaptResponse(req, 'GET /system/df', answer));
  });

  api.route('get', '/events', async (req, res) => {
    const q = req.query;
    const payload: EventsPayload = { filters: api.parseFilters(q.filters, EVENT_FILTER_KEYS) };
    if (typeof q.since === 'string' && q.since) payload.since = q.since;
    if (typeof q.until === 'string' && q.until) payload.until = q.until;
    const job = ctx.engine.job('events', payload, { origin: api.origin(req), signal: api.clientGone(req, res) });
    await api.streamJob(job, res);
  });
}
