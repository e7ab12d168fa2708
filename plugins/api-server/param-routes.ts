// The table of parametrised routes ('/containers/:id/json', '/images/*name/push'). It replaced
// express, whose loading held the event loop 180–440 ms after ready. The path it matches is
// already normalized (request-target.ts: decoded once, no '%' left, no trailing slash), so a
// parameter needs no decoding. Matching as dockerd's router: case-sensitive, strict, the first
// route registered wins, HEAD served by a GET route when no HEAD route comes first.
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { notFound, sendError } from './respond.js';
import type { ApiRequest, Method, RouteHandler } from './service.js';

export interface RouteSpec {
  method: Method;
  path: string;
  handler: RouteHandler;
}

/** ':x' matches one segment, '*x' one or more; the keys in order. */
export function compilePath(path: string): { pattern: RegExp; keys: string[] } {
  const keys: string[] = [];
  const source = path
    .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    .replace(/([:*])(\w+)/g, (_m, kind: string, k: string) => { keys.push(k); return kind === ':' ? '([^/]+)' : '(.+)'; });
  return { pattern: new RegExp(`^${source}$`), keys };
}

export class ParamRoutes {
  private readonly routes: { method: string; pattern: RegExp; keys: string[]; handler: RouteHandler }[] = [];

  constructor(private readonly log: Logger) {}

  add(r: RouteSpec): void {
    this.routes.push({ method: r.method.toUpperCase(), ...compilePath(r.path), handler: r.handler });
  }

  /** Serves `req` (its query already parsed) by the first route that matches `path`; 404 when none. */
  async serve(req: ApiRequest, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    for (const r of this.routes) {
      if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) continue;
      const hit = r.pattern.exec(path);
      if (!hit) continue;
      req.params = Object.fromEntries(r.keys.map((k, i) => [k, hit[i + 1]]));
      try {
        await r.handler(req, res);
      } catch (err) {
        sendError(this.log, req, res, err);
      }
      return;
    }
    notFound(res);
  }
}

export function queryObject(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of params) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}
