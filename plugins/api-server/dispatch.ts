// The request listener in front of everything: common headers, CORS, API version, the readiness
// gate, then the exact-path table or the table of parametrised routes.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { DaemonInfo } from '../../core/plugin-api.js';
import type { AuthzService } from '../authz/index.js';
import { MAX_API_VERSION, acceptVersion } from './api-version.js';
import { authzRequest, hasBody, holdResponse, readBody, refusePrototypeKeys, replayBody, type Identity } from './authz-stage.js';
import { queryObject, type ParamRoutes } from './param-routes.js';
import { parseTarget, refuseMethodOverride, type RequestTarget } from './request-target.js';
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
  paramRoutes: ParamRoutes;
  authz: AuthzService;
  identify: (req: IncomingMessage) => Identity;
  /** Upload routes (tar) whose body streams to the handler: authz plugins cannot see it. */
  streamsBody: (method: string, path: string) => boolean;
  /** A hijacking route (attach, exec start) asked without Upgrade: served by the hijack table, true if so. */
  hijack?: (req: IncomingMessage, res: ServerResponse, path: string) => boolean;
}

export function createDispatcher(o: DispatchOptions): RequestListener {
  const headerEntries = Object.entries(o.commonHeaders);
  const serve = async (req: ApiRequest, res: ServerResponse, path: string, query: string | undefined) => {
    try {
      // Until the daemon has restored its state only the early routes answer; the rest wait.
      if (!o.daemon.isReady() && !o.early.has(path)) await Promise.race([o.daemon.whenReady(), o.earlyAdded(path)]);
      const method = req.method ?? 'GET';
      const handler = o.exact.get(`${method} ${path}`) ?? (method === 'HEAD' ? o.exact.get(`GET ${path}`) : undefined);
      req.query = query ? queryObject(new URLSearchParams(query)) : {};
      if (handler) {
        req.params = {};
        await handler(req, res);
        return;
      }
      await o.paramRoutes.serve(req, res, path);
    } catch (err) {
      sendError(o.log, req, res, err);
    }
  };
  /** The authz stage: the whole body read and replayed, then the chain; false when refused. */
  const authorize = async (req: ApiRequest, res: ServerResponse, target: RequestTarget): Promise<boolean> => {
    try {
      const method = req.method ?? 'GET';
      let body: Buffer | undefined;
      if (!o.streamsBody(method === 'HEAD' ? 'GET' : method, target.path)) {
        body = hasBody(req) ? await readBody(req) : Buffer.alloc(0);
        refusePrototypeKeys(body);
        if (body.length || hasBody(req)) replayBody(req, body);
      }
      const ctx = authzRequest(req, o.identify(req), target, body, false);
      await o.authz.authorizeRequest(ctx);
      if (o.authz.wantsResponse()) holdResponse(res, o.authz, ctx, (err) => sendError(o.log, req, res, err));
      return true;
    } catch (err) {
      // A body left unread (too large, or a refused upload) must not be parsed as the next request.
      if (!req.complete) res.setHeader('Connection', 'close');
      sendError(o.log, req, res, err);
      return false;
    }
  };
  return (req: IncomingMessage, res: ServerResponse) => {
    for (const [k, v] of headerEntries) res.setHeader(k, v);
    if (o.cors && req.method === 'OPTIONS') {
      res.writeHead(200).end();
      return;
    }
    let target: RequestTarget;
    try {
      target = parseTarget(req.url ?? '/');
      refuseMethodOverride(req.headers);
    } catch (err) {
      if (!req.complete) res.setHeader('Connection', 'close');
      sendError(o.log, req, res, err);
      return;
    }
    const version = target.version ?? MAX_API_VERSION;
    if (!acceptVersion(version, res)) return;
    // Before the URL is normalized: the hijack table parses the target (and version) itself.
    if (o.hijack?.(req, res, target.path)) return;
    const r = req as ApiRequest;
    r.apiVersion = version;
    // The router dispatches the normalized form, the one authorization saw.
    req.url = target.query ? `${target.path}?${target.query}` : target.path;
    const query = target.query || undefined;
    if (!o.authz.active()) {
      void serve(r, res, target.path, query);
      return;
    }
    void authorize(r, res, target).then((ok) => (ok ? serve(r, res, target.path, query) : undefined));
  };
}
