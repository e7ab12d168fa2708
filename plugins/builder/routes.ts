// The build routes: POST /build (the context in the body, progress streamed back as JSON lines)
// and POST /build/prune.
import type { ServerResponse } from 'node:http';
import type { PluginContext } from '../../core/plugin-api.js';
import type { ApiService } from '../api-server/index.js';
import { parseBuildQuery } from './options.js';
import { PRUNE_FILTERS } from './build-cache.js';
import { goArch } from '../image-store/index.js';

export function mountBuildRoutes(ctx: PluginContext, api: ApiService): void {
  api.route('post', '/build', async (req, res) => {
    const header = req.headers['x-registry-config'];
    const opts = parseBuildQuery(req.query as Record<string, unknown>, Array.isArray(header) ? header[0] : header, { experimental: false, arch: goArch(process.arch) });
    // With remote, the context comes from the URL (the body, if any, is not read).
    const job = ctx.engine.job<typeof opts, string>('image.build', opts, { origin: api.origin(req), ...(opts.remote ? {} : { stdin: req }), signal: api.clientGone(req, res) });
    await streamBuild(job, res);
  }, { streamBody: true });

  api.route('post', '/build/prune', async (req, res) => {
    const q = req.query as Record<string, unknown>;
    const filters = api.parseFilters(q.filters, PRUNE_FILTERS);
    for (const key of ['reserved-space', 'max-used-space', 'min-free-space']) {
      if (q[key] !== undefined && q[key] !== '' && q[key] !== '0') throw ctx.errors.invalid(`${key} is not supported by Berth's build cache: use keep-storage`);
    }
    const keep = typeof q['keep-storage'] === 'string' && q['keep-storage'] ? Number(q['keep-storage']) : 0;
    if (!Number.isFinite(keep) || keep < 0) throw ctx.errors.invalid(`invalid keep-storage: ${String(q['keep-storage'])}`);
    const all = q.all === '1' || q.all === 'true' || q.all === 'True';
    api.sendJSON(res, 200, await ctx.engine.run('build.prune', { all, filters, keepStorage: keep }, { origin: api.origin(req) }));
  });
}

/** As the API server's streamJob, but a failure the build already reported in the stream is not sent twice. */
async function streamBuild(job: { stdout: NodeJS.ReadableStream; run: () => Promise<unknown> }, res: ServerResponse): Promise<void> {
  let open = false;
  job.stdout.on('data', (chunk: Buffer) => {
    if (!open) {
      open = true;
      res.statusCode = 200;
      res.setHeader('Content-Type', 'application/json');
      res.flushHeaders();
    }
    res.write(chunk);
  });
  try {
    await job.run();
  } catch (err) {
    if (!open) throw err;
    if (!(err as { reported?: boolean }).reported) res.write(`${JSON.stringify({ error: (err as Error).message, errorDetail: { message: (err as Error).message } })}\n`);
  }
  if (!open) {
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/json');
  }
  res.end();
}
