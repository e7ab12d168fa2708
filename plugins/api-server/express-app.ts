// The express application for parametrised routes, built on first need: loading express costs
// more start-up time than the rest of the daemon, and /_ping must answer before that.
import type { RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { notFound, sendError } from './respond.js';
import type { ApiRequest, Method, RouteHandler } from './service.js';

export interface RouteSpec {
  method: Method;
  path: string;
  handler: RouteHandler;
}

export async function buildExpressApp(routes: RouteSpec[], log: Logger): Promise<{ app: RequestListener; add: (r: RouteSpec) => void }> {
  const { default: express } = await import('express');
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Same query parsing as the fast routes: repeated keys become arrays, nothing nested.
  app.set('query parser', (q: string) => queryObject(new URLSearchParams(q)));
  // Case-sensitive and strict, as dockerd's router: the path authorization saw is the path matched.
  const router = express.Router({ caseSensitive: true, strict: true });
  const add = (r: RouteSpec) => {
    router[r.method](r.path, async (req, res) => {
      try {
        await r.handler(req as unknown as ApiRequest, res);
      } catch (err) {
        sendError(log, req, res, err);
      }
    });
  };
  routes.forEach(add);
  app.use(router);
  app.use((_req, res) => notFound(res));
  return { app: app as unknown as RequestListener, add };
}

export function queryObject(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of params) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

export type { ServerResponse };
