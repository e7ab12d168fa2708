// The API server plugin: listeners, API versions, common headers, error mapping, and the
// route table that route-group plugins fill through the `api` service.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { definePlugin, type JobOrigin } from '../../core/plugin-api.js';
import { MAX_API_VERSION, MIN_API_VERSION } from './api-version.js';
import { createDispatcher } from './dispatch.js';
import { mountPing } from './ping.js';
import { compilePath, ParamRoutes } from './param-routes.js';
import { parseFilters } from './filters.js';
import { HijackRoutes } from './hijack.js';
import { readJson } from './read-json.js';
import { closeListeners, openListeners } from './listeners.js';
import { sendJSON } from './respond.js';
import type { AuthzService } from '../authz/index.js';
import { identify } from './authz-stage.js';
import { parseHost } from './listeners.js';
import { adaptRequest, adaptResponse, refusedFields, since } from './version-gates.js';
import { invalid } from '../../core/plugin-api.js';
import { checkRequestBody, warmRequestBodies } from '../../lib/engine-api/request-bodies.js';
import { API_SERVICE_VERSION, type ApiService, type Method, type RouteHandler, type RouteOptions } from './service.js';

export type { ApiRequest, ApiService, RouteHandler } from './service.js';
export type { Hijacked, HijackHandler } from './hijack.js';
export { MAX_API_VERSION, MIN_API_VERSION } from './api-version.js';
export { VERSION_GATES, REFUSALS, type GateId, type VersionGate } from './version-gates.js';

function origin(req: IncomingMessage): JobOrigin {
  const peer = (req.socket as TLSSocket).getPeerCertificate?.();
  return {
    kind: 'http',
    method: req.method ?? 'GET',
    uri: req.url ?? '/',
    headers: req.headers,
    ...(peer?.subject?.CN ? { user: String(peer.subject.CN) } : {}),
  };
}

function clientGone(req: IncomingMessage, res: ServerResponse): AbortSignal {
  const ac = new AbortController();
  res.on('close', () => ac.abort());
  req.socket.on('close', () => ac.abort());
  return ac.signal;
}

/** Streams a job's stdout; until the handler begins, a failure is answered with its status code. */
async function streamJob(job: Parameters<ApiService['streamJob']>[0], res: ServerResponse, contentType = 'application/json') {
  const pending: Buffer[] = [];
  let open = false;
  job.stdout.on('data', (chunk: Buffer) => {
    if (open) res.write(chunk);
    else {
      pending.push(chunk);
      job.begin();
    }
  });
  const run = job.run();
  const first = await Promise.race([job.begun.then(() => 'begun' as const), run.then(() => 'done' as const)]);
  res.statusCode = 200;
  // An empty type sends none (logs under API 1.41, as dockerd 20.10).
  if (contentType) res.setHeader('Content-Type', contentType);
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
}

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

    const exact = new Map<string, RouteHandler>();
    const early = new Set<string>();
    const earlyWaiters = new Map<string, { promise: Promise<void>; resolve: () => void }>();
    const earlyAdded = (path: string) => {
      let w = earlyWaiters.get(path);
      if (!w) {
        let resolve!: () => void;
        const promise = new Promise<void>((r) => { resolve = r; });
        earlyWaiters.set(path, (w = { promise, resolve }));
      }
      return w.promise;
    };
    const paramRoutes = new ParamRoutes(ctx.log);

    // Upload routes whose body streams to the handler (authz plugins do not see it).
    const streamed = { exact: new Set<string>(), patterns: [] as { method: string; pattern: RegExp }[] };
    const streamsBody = (method: string, path: string) =>
      streamed.exact.has(`${method} ${path}`) || streamed.patterns.some((p) => p.method === method && p.pattern.test(path));
    const route = (method: Method, path: string, handler: RouteHandler, opts: RouteOptions = {}) => {
      if (opts.streamBody) {
        const m = method.toUpperCase();
        if (path.includes(':') || path.includes('*')) streamed.patterns.push({ method: m, pattern: compilePath(path).pattern });
        else streamed.exact.add(`${m} ${path}`);
      }
      if (opts.early) {
        early.add(path);
        earlyWaiters.get(path)?.resolve();
      }
      if (!path.includes(':') && !path.includes('*')) {
        exact.set(`${method.toUpperCase()} ${path}`, handler);
        return;
      }
      paramRoutes.add({ method, path, handler });
    };

    const authz = ctx.services.get<AuthzService>('authz');
    const tlsverify = Boolean(cfg.tlsverify);
    const who = (req: IncomingMessage) => identify(req, tlsverify);
    const unixSockets = (cfg.hosts as string[]).map(parseHost).flatMap((h) => (h.proto === 'unix' ? [h.path] : []));
    authz.hooks.apiSockets.tap('api-server', (paths) => [...paths, ...unixSockets]);
    const hijacks = new HijackRoutes();
    ctx.services.provide<ApiService>('api', {
      hijack: (method, path, handler) => hijacks.add(method, path, handler),
      serviceVersion: API_SERVICE_VERSION,
      minApiVersion: MIN_API_VERSION,
      maxApiVersion: MAX_API_VERSION,
      route,
      sendJSON,
      readJson,
      parseFilters,
      origin,
      streamJob,
      clientGone,
      commonHeaders,
      since,
      adaptRequest,
      adaptResponse,
      refuseUnsupported: (route, body) => {
        const problems = refusedFields(route, body);
        if (problems.length) throw invalid(problems.join('; '));
      },
      checkBody: (req, kind, body) => {
        const problems = checkRequestBody(ctx.schema.compile, kind, req.apiVersion, body);
        if (problems.length) throw invalid(problems.join('\n'));
      },
    });

    mountPing(ctx, route, origin);
    const hijackOptions = { commonHeaders, daemon: ctx.daemon, log: ctx.log, authz, identify: who };
    // Listen now so /_ping answers early; other routes wait for readiness (see dispatch).
    const listeners = await openListeners(
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
      createDispatcher({
        commonHeaders, cors: cors !== undefined, daemon: ctx.daemon, log: ctx.log, exact, early, earlyAdded, paramRoutes, authz, identify: who, streamsBody,
        hijack: (req, res, path) => {
          if (!hijacks.matches(req.method, path)) return false;
          void hijacks.serveWithoutUpgrade(hijackOptions, req, res);
          return true;
        },
      }),
      ctx.log,
      hijacks.listener(hijackOptions),
    );
    // The request bodies' validators, made once the daemon is up, one per turn of the event loop.
    ctx.hooks.ready.tap('warm-request-bodies', () => {
      const steps = warmRequestBodies(ctx.schema.compile);
      const next = () => {
        const step = steps.shift();
        if (!step) return;
        try {
          step();
        } catch (err) {
          ctx.log.warn({ err }, 'cannot make a request body validator (the first request needing it will say why)');
          return;
        }
        setImmediate(next).unref();
      };
      setTimeout(next, 200).unref();
    });
    ctx.hooks.shutdown.tapPromise('close-listeners', () => {
      hijacks.closeAll();
      return closeListeners(listeners);
    });
  },
});
