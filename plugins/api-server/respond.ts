// Responses as dockerd writes them: JSON ending in one newline, errors as {"message": ...}.
// Node-level API only: the same code serves the exact and the parametrised routes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { BerthError, messageOf, statusOf } from '../../core/plugin-api.js';

// A frozen body is one answer shared by many requests (lib/turn-coalescer): encoded once.
const encoded = new WeakMap<object, Buffer>();

function jsonBytes(body: unknown): Buffer {
  const shared = typeof body === 'object' && body !== null && Object.isFrozen(body);
  let bytes = shared ? encoded.get(body) : undefined;
  if (!bytes) {
    bytes = Buffer.from(`${JSON.stringify(body)}\n`);
    if (shared) encoded.set(body as object, bytes);
  }
  return bytes;
}

export function sendJSON(res: ServerResponse, status: number, body: unknown): void {
  const bytes = jsonBytes(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', bytes.length);
  res.end(bytes);
}

export function notFound(res: ServerResponse): void {
  sendJSON(res, 404, { message: 'page not found' });
}

/** Maps coded errors to dockerd's status codes; body-parser errors are the client's fault. */
export function sendError(log: Logger, req: IncomingMessage, res: ServerResponse, err: unknown): void {
  let status = statusOf(err);
  const e = err as { status?: number };
  if (!(err instanceof BerthError) && typeof e.status === 'number' && e.status >= 400 && e.status < 500) status = e.status;
  // A client that hung up mid-body (Ctrl-C, a dropped connection) is routine, not a daemon fault.
  const clientGone = (req.destroyed && !req.complete) || res.destroyed || (req.socket?.destroyed ?? false);
  if (clientGone) {
    log.debug({ err: (err as Error)?.message, method: req.method, url: req.url }, 'client went away before the request was answered');
    res.destroy();
    return;
  }
  if (status >= 500) log.error({ err, method: req.method, url: req.url }, 'request failed');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (status === 304) {
    res.statusCode = 304;
    res.end();
    return;
  }
  sendJSON(res, status, { message: messageOf(err) });
}
