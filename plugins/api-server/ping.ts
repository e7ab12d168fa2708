// /_ping belongs to the API server itself: it answers as soon as the server listens, before the
// route groups (and the plugins they wait for) are up. Like every route it runs a job, so authz
// and the engine's hooks see it.
import type { IncomingMessage } from 'node:http';
import type { JobOrigin, PluginContext } from '../../core/plugin-api.js';
import type { RouteHandler, RouteOptions } from './service.js';

const PING_HEADERS = {
  'Cache-Control': 'no-cache, no-store, must-revalidate',
  Pragma: 'no-cache',
  'Builder-Version': '1',
  // Berth runs no swarm: API 1.42's header, unversioned as in dockerd.
  Swarm: 'inactive',
};

export function mountPing(
  ctx: PluginContext,
  route: (method: 'get' | 'head', path: string, handler: RouteHandler, opts?: RouteOptions) => void,
  origin: (req: IncomingMessage) => JobOrigin,
): void {
  ctx.engine.register('ping', { description: 'answers /_ping', schema: { type: 'object', additionalProperties: false }, run: () => 'OK' });
  const ping: RouteHandler = async (req, res) => {
    const body = await ctx.engine.run<string>('ping', undefined, { origin: origin(req) });
    for (const [k, v] of Object.entries(PING_HEADERS)) res.setHeader(k, v);
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('Content-Length', req.method === 'HEAD' ? 0 : Buffer.byteLength(body));
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  route('get', '/_ping', ping, { early: true });
  route('head', '/_ping', ping, { early: true });
}
