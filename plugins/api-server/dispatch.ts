// The request listener in front of everything: common headers, CORS, API version, the readiness
// gate, then the exact-path table (served at once) or the express app (loaded on first need).
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { DaemonInfo } from '../../core/plugins/context.js';
import { negotiateVersion } from './api-version.js';
import { queryObject } from './express-app.js';
import { sendError } from './respond.js';
import type { ApiRequest, RouteHandler } from './service.js';

export interface DispatchOptions {
  commonHeaders: Record<string, string>;
  cors: boolean;
  daemon: DaemonInfo;
  log: Logger;
  /** Routes without path parameters, by "METHOD /path". */
  exact: Map<string, RouteHandler>;
  /** Paths that answer before the daemon is ready. */
  early: Set<string>;
  /** Resolves when `path` is registered as early (a request may come before its route group). */
  earlyAdded: (path: string) => Promise<void>;
  expressApp: () => Promise<RequestListener>;
}

export function createDispatcher(o: DispatchOptions): RequestListener {
  const headerEntries = Object.entries(o.commonHeaders);
  const serve = async (req: ApiRequest, res: ServerResponse, path: string, query: string | undefined) => {
    try {
      // Until the daemon has restored its state only the early routes answer; the rest wait.
      if (!o.daemon.isReady() && !o.early.has(path)) await Promise.race([o.daemon.whenReady(), o.earlyAdded(path)]);
      const method = req.method ?? 'GET';
      const handler = o.exact.get(`${method} ${path}`) ?? (method === 'HEAD' ? o.exact.get(`GET ${path}`) : undefined);
      if (handler) {
        req.params = {};
        req.query = query ? queryObject(new URLSearchParams(query)) : {};
        await handler(req, res);
        return;
      }
      (await o.expressApp())(req, res);
    } catch (err) {
      sendError(o.log, req, res, err);
    }
  };
  return (req: IncomingMessage, res: ServerResponse) => {
    for (const [k, v] of headerEntries) res.setHeader(k, v);
    if (o.cors && req.method === 'OPTIONS') {
      res.writeHead(200).end();
      return;
    }
    const version = negotiateVersion(req, res);
    if (version === undefined) return;
    const r = req as ApiRequest;
    r.apiVersion = version;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    void serve(r, res, q < 0 ? url : url.slice(0, q), q < 0 ? undefined : url.slice(q + 1));
  };
}
