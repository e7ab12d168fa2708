// The `api` service (interface version 1.1.0: the version gates): what route-group plugins mount their routes through.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Job, JobOrigin } from '../../core/plugin-api.js';
import type { FilterArgs } from './filters.js';
import type { HijackHandler } from './hijack.js';
import type { GateId } from './version-gates.js';
import type { BodyKind } from '../../lib/engine-api/request-bodies.js';

export const API_SERVICE_VERSION = '1.1.0';

/** Node's request, with the path parameters and the query string parsed. */
export type ApiRequest = IncomingMessage & {
  params: Record<string, string>;
  query: Record<string, string | string[] | undefined>;
  /** The API version the client asked for (the maximum when unversioned). */
  apiVersion: string;
};
/** Handlers use node's ServerResponse API only (setHeader, statusCode, write, end). */
export type RouteHandler = (req: ApiRequest, res: ServerResponse) => unknown;
export type Method = 'get' | 'head' | 'post' | 'put' | 'delete';

export interface RouteOptions {
  /** Answer before the daemon has restored its state (only /_ping and /version do). */
  early?: boolean;
  /**
   * The body is an upload (a tar archive) that streams to the handler: it is not buffered for
   * authorization, so authz plugins see no body (bodyStreamed). Never parse such a body as JSON.
   */
  streamBody?: boolean;
}

export interface ApiService {
  serviceVersion: string;
  minApiVersion: string;
  maxApiVersion: string;
  /**
   * Mounts a route on an unversioned path, e.g. '/containers/:id/json'. Paths without
   * parameters are served by an exact-match table, the others by the parametrised table.
   */
  route(method: Method, path: string, handler: RouteHandler, opts?: RouteOptions): void;
  /**
   * Mounts a hijacked route (attach, exec start): the handler answers 101 through conn.upgrade and
   * owns the raw connection from then on. Path parameters as ':id'.
   */
  hijack(method: Method, path: string, handler: HijackHandler): void;
  sendJSON(res: ServerResponse, status: number, body: unknown): void;
  /** Reads a JSON body (Content-Type checked, 4 MiB at most); undefined when empty. */
  readJson(req: IncomingMessage): Promise<unknown>;
  parseFilters(raw: unknown, allowed: readonly string[]): FilterArgs;
  /** Who made the request, for a job's origin (authorization, audit). */
  origin(req: IncomingMessage): JobOrigin;
  /** Streams a job's stdout as the response body (chunked, flushed per write) while the job runs. */
  streamJob(job: Job<any, any>, res: ServerResponse, contentType?: string): Promise<void>;
  /** An AbortSignal that fires when the client goes away. */
  clientGone(req: IncomingMessage, res: ServerResponse): AbortSignal;
  /** The headers every response carries (Api-Version, Server, ...). */
  commonHeaders: Record<string, string>;
  /** 1.1.0: whether the request's API version has a gated behaviour (version-gates.ts). */
  since(req: { apiVersion: string }, gate: GateId): boolean;
  /** 1.1.0: a request body as dockerd reads it at the request's version (route as "POST /containers/create"). */
  adaptRequest<T>(req: { apiVersion: string }, route: string, body: T): T;
  /** 1.1.0: a response body as dockerd writes it at the request's version. */
  adaptResponse<T>(req: { apiVersion: string }, route: string, body: T): T;
  /** 1.1.0: throws 400 naming every field of `body` that Berth cannot honour on `route`. */
  refuseUnsupported(route: string, body: unknown): void;
  /**
   * 1.1.0: throws 400 when a JSON body does not decode as dockerd decodes it against the spec of
   * the request's version (wrong types, numbers out of range, enums dockerd checks), in its words.
   */
  checkBody(req: { apiVersion: string }, kind: BodyKind, body: unknown): void;
}
