// API versions: /vX.Y/ prefixes, the supported range, and dockerd's errors outside it.
import type { NextFunction, Request, Response } from 'express';

export const MIN_API_VERSION = '1.24';
export const MAX_API_VERSION = '1.41';

export function compareVersions(a: string, b: string): number {
  const [a1, a2] = a.split('.').map(Number);
  const [b1, b2] = b.split('.').map(Number);
  return a1 - b1 || a2 - b2;
}

const VERSIONED = /^\/v(\d+\.\d+)(\/.*)$/;

/** Strips the /vX.Y prefix, records the version in res.locals, refuses versions out of range. */
export function apiVersionMiddleware(req: Request, res: Response, next: NextFunction): void {
  let version = MAX_API_VERSION;
  const m = VERSIONED.exec(req.url);
  if (m) {
    version = m[1];
    req.url = m[2];
  }
  if (compareVersions(version, MAX_API_VERSION) > 0) {
    res.status(400).type('application/json')
      .send(`${JSON.stringify({ message: `client version ${version} is too new. Maximum supported API version is ${MAX_API_VERSION}` })}\n`);
    return;
  }
  if (compareVersions(version, MIN_API_VERSION) < 0) {
    // dockerd answers this one in plain text.
    res.status(400).set('X-Content-Type-Options', 'nosniff').type('text/plain; charset=utf-8')
      .send(`client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version\n`);
    return;
  }
  res.locals.apiVersion = version;
  next();
}
