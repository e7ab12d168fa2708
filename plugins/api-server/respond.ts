// Responses as dockerd writes them: JSON ending in one newline, errors as {"message": ...}.
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { BerthError, messageOf, statusOf } from '../../core/errors.js';

export function sendJSON(res: Response, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.status(status);
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

export function notFoundRoute(_req: Request, res: Response): void {
  sendJSON(res, 404, { message: 'page not found' });
}

/** Maps coded errors to dockerd's status codes; body-parser errors are the client's fault. */
export function errorMapper(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    let status = statusOf(err);
    const e = err as { type?: string; status?: number };
    if (!(err instanceof BerthError) && typeof e.status === 'number' && e.status >= 400 && e.status < 500) status = e.status;
    if (status >= 500) log.error({ err, method: req.method, url: req.originalUrl }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (status === 304) {
      res.status(304).end();
      return;
    }
    sendJSON(res, status, { message: messageOf(err) });
  };
}
