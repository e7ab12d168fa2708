// Routes on a container's files: docker cp (HEAD/GET/PUT archive), docker diff, docker export,
// docker commit. Each turns the request into a container-store job.
import type { PluginContext } from '../../core/plugin-api.js';
import type { ApiRequest, ApiService } from '../api-server/index.js';
import type { CommitPayload } from '../container-store/index.js';
import { encodePathStat, PATH_STAT_HEADER, type PathStat } from '../container-store/index.js';

const truthy = (v: unknown) => v === '1' || v === 'true' || v === 'True';
const text = (v: unknown) => (typeof v === 'string' ? v : '');
const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);

export function mountArchiveRoutes(ctx: PluginContext, api: ApiService): void {
  const origin = (req: ApiRequest) => api.origin(req);
  const run = <R>(req: ApiRequest, name: string, payload: unknown) => ctx.engine.run<R>(name, payload, { origin: origin(req) });

  // HEAD before GET: the router would otherwise answer HEAD with the GET route.
  api.route('head', '/containers/:id/archive', async (req, res) => {
    const stat = await run<PathStat>(req, 'container.archive-stat', { name: req.params.id, path: text(req.query.path) });
    res.setHeader(PATH_STAT_HEADER, encodePathStat(stat));
    res.statusCode = 200;
    res.end();
  });

  api.route('get', '/containers/:id/archive', async (req, res) => {
    const payload = {
      name: req.params.id, path: text(req.query.path),
      onStat: (stat: PathStat) => res.setHeader(PATH_STAT_HEADER, encodePathStat(stat)),
    };
    const job = ctx.engine.job('container.archive', payload, { origin: origin(req), signal: api.clientGone(req, res) });
    await api.streamJob(job, res, 'application/x-tar');
  });

  api.route('put', '/containers/:id/archive', async (req, res) => {
    const payload = {
      name: req.params.id, path: text(req.query.path),
      copyUIDGID: truthy(req.query.copyUIDGID), noOverwriteDirNonDir: truthy(req.query.noOverwriteDirNonDir),
    };
    await ctx.engine.run('container.extract', payload, { origin: origin(req), stdin: req });
    res.statusCode = 200;
    res.end();
  }, { streamBody: true });

  api.route('get', '/containers/:id/changes', async (req, res) => {
    api.sendJSON(res, 200, await run(req, 'container.changes', { name: req.params.id }));
  });

  api.route('get', '/containers/:id/export', async (req, res) => {
    const job = ctx.engine.job('container.export', { name: req.params.id }, { origin: origin(req), signal: api.clientGone(req, res) });
    await api.streamJob(job, res, 'application/octet-stream');
  });

  api.route('post', '/commit', async (req, res) => {
    const q = req.query;
    const body = await api.readJson(req);
    if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body))) throw ctx.errors.invalid('invalid JSON body: a container config object is expected');
    const payload: CommitPayload = {
      name: text(q.container),
      ...(text(q.repo) ? { repo: text(q.repo) } : {}),
      ...(text(q.tag) ? { tag: text(q.tag) } : {}),
      ...(text(q.comment) ? { comment: text(q.comment) } : {}),
      ...(text(q.author) ? { author: text(q.author) } : {}),
      // Pause unless asked not to (API >= 1.13 defaults to pausing).
      pause: q.pause === undefined || q.pause === '' ? true : truthy(q.pause),
      changes: list(q.changes),
      config: (body ?? null) as CommitPayload['config'],
    };
    if (!payload.name) throw ctx.errors.invalid('invalid name or ID supplied: ""');
    api.sendJSON(res, 201, await run(req, 'container.commit', payload));
  });
}
