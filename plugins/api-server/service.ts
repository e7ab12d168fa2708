// The `api` service (interface version 1.0.0): what route-group plugins mount their routes through.
import type { Request, Response, Router } from 'express';
import type { JobOrigin } from '../../core/job.js';
import type { Job } from '../../core/job.js';
import type { FilterArgs } from './filters.js';

export const API_SERVICE_VERSION = '1.0.0';

export type RouteHandler = (req: Request, res: Response) => unknown;
export type Method = 'get' | 'head' | 'post' | 'put' | 'delete';

export interface RouteOptions {
  /** Answer before the daemon has restored its state (literal paths only: /_ping, /version). */
  early?: boolean;
}

export interface ApiService {
  serviceVersion: string;
  minApiVersion: string;
  maxApiVersion: string;
  /** Mounts a route; unversioned path, e.g. '/containers/:id/json'. */
  route(method: Method, path: string, handler: RouteHandler, opts?: RouteOptions): void;
  /** The express router under the version middleware, for what route() does not cover. */
  router: Router;
  sendJSON(res: Response, status: number, body: unknown): void;
  parseFilters(raw: unknown, allowed: readonly string[]): FilterArgs;
  /** Who made the request, for a job's origin (authorization, audit). */
  origin(req: Request): JobOrigin;
  /** Streams a job's stdout as the response body (chunked, flushed per write) while the job runs. */
  streamJob(job: Job<any, any>, res: Response, contentType?: string): Promise<void>;
  /** An AbortSignal that fires when the client goes away. */
  clientGone(req: Request, res: Response): AbortSignal;
  /** The headers every response carries (Api-Version, Server, ...). */
  commonHeaders: Record<string, string>;
}
