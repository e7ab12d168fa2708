// The API server plugin: express app, listeners, API versions, common headers, error mapping.
import express, { type Request, type Response } from 'express';
import type { TLSSocket } from 'node:tls';
import { definePlugin } from '../../core/plugins/context.js';
import type { JobOrigin } from '../../core/job.js';
import { apiVersionMiddleware, MAX_API_VERSION, MIN_API_VERSION } from './api-version.js';
import { parseFilters } from './filters.js';
import { closeListeners, openListeners, type Listener } from './listeners.js';
import { errorMapper, notFoundRoute, sendJSON } from './respond.js';
import { API_SERVICE_VERSION, type ApiService, type Method, type RouteHandler, type RouteOptions } from './service.js';

export type { ApiService } from './service.js';

export default definePlugin({
  async init(ctx) {
    const cfg = ctx.config as Record<string, any>;
    const commonHeaders: Record<string, string> = {
      'Api-Version': MAX_API_VERSION,
      'Docker-Experimental': 'false',
      Ostype: 'linux',
      Server: `Berth/${ctx.daemon.version} (linux)`,
    };
    const cors = cfg['api-cors-header'] as string | undefined;
    if (cors !== undefined) {
      Object.assign(commonHeaders, {
        'Access-Control-Allow-Origin': cors,
        'Access-Control-Allow-Headers': 'Origin, X-Requested-With, Content-Type, Accept, X-Registry-Auth',
        'Access-Control-Allow-Methods': 'HEAD, GET, POST, DELETE, PUT, OPTIONS',
      });
    }

    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    app.use((req, res, next) => {
      res.set(commonHeaders);
      if (cors !== undefined && req.method === 'OPTIONS') {
        res.status(200).end();
        return;
      }
      next();
    });
    app.use(apiVersionMiddleware);
    // Until the daemon has restored its state (and every route group has mounted), only the
    // early routes answer; the rest wait instead of failing.
    const earlyPaths = new Set<string>();
    app.use((req, _res, next) => {
      if (ctx.daemon.isReady() || earlyPaths.has(req.path)) return next();
      ctx.daemon.whenReady().then(() => next(), next);
    });
    const router = express.Router();
    app.use(router);
    app.use(notFoundRoute);
    app.use(errorMapper(ctx.log));

    const route = (method: Method, path: string, handler: RouteHandler, opts: RouteOptions = {}) => {
      if (opts.early) earlyPaths.add(path);
      router[method](path, async (req, res, next) => {
        try {
          await handler(req, res);
        } catch (err) {
          next(err);
        }
      });
    };

    const origin = (req: Request): JobOrigin => {
      const peer = (req.socket as TLSSocket).getPeerCertificate?.();
      return {
        kind: 'http',
        method: req.method,
        uri: req.originalUrl,
        headers: req.headers,
        ...(peer?.subject?.CN ? { user: String(peer.subject.CN) } : {}),
      };
    };

    const clientGone = (req: Request, res: Response): AbortSignal => {
      const ac = new AbortController();
      res.on('close', () => ac.abort());
      req.socket.on('close', () => ac.abort());
      return ac.signal;
    };

    const streamJob = async (job: Parameters<ApiService['streamJob']>[0], res: Response, contentType = 'application/json') => {
      const pending: Buffer[] = [];
      let open = false;
      job.stdout.on('data', (chunk: Buffer) => {
        if (!open) job.begin();
        if (open) res.write(chunk);
        else pending.push(chunk);
      });
      const run = job.run();
      // Until the handler begins, a failure (veto, bad input) is answered with its status code.
      const first = await Promise.race([job.begun.then(() => 'begun' as const), run.then(() => 'done' as const)]);
      res.status(200);
      res.setHeader('Content-Type', contentType);
      if (first === 'begun') res.flushHeaders();
      open = true;
      for (const chunk of pending.splice(0)) res.write(chunk);
      try {
        await run;
      } catch (err) {
        // Once streaming has begun, errors travel in the stream, as dockerd does.
        res.write(`${JSON.stringify({ error: (err as Error).message, errorDetail: { message: (err as Error).message } })}\n`);
      }
      res.end();
    };

    const service: ApiService = {
      serviceVersion: API_SERVICE_VERSION,
      minApiVersion: MIN_API_VERSION,
      maxApiVersion: MAX_API_VERSION,
      route,
      router,
      sendJSON,
      parseFilters,
      origin,
      streamJob,
      clientGone,
      commonHeaders,
    };
    ctx.services.provide('api', service);

    // Listen now so /_ping answers early; other routes wait for readiness (see route()).
    const listeners: Listener[] = await openListeners(
      {
        hosts: cfg.hosts as string[],
        group: cfg.group as string | undefined,
        tls: Boolean(cfg.tls),
        tlsverify: Boolean(cfg.tlsverify),
        tlscacert: cfg.tlscacert,
        tlscert: cfg.tlscert,
        tlskey: cfg.tlskey,
        insecureTcp: Boolean(cfg['insecure-tcp']),
      },
      app,
      ctx.log,
    );
    ctx.hooks.shutdown.tapPromise('close-listeners', () => closeListeners(listeners));
  },
});
