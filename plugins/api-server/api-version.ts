// API versions: /vX.Y/ prefixes, the supported range, and dockerd's errors outside it.
import type { IncomingMessage, ServerResponse } from 'node:http';

export const MIN_API_VERSION = '1.24';
export const MAX_API_VERSION = '1.41';

export function compareVersions(a: string, b: string): number {
  const [a1, a2] = a.split('.').map(Number);
  const [b1, b2] = b.split('.').map(Number);
  return a1 - b1 || a2 - b2;
}

const VERSIONED = /^\/v(\d+\.\d+)(\/.*)$/;

/**
 * Strips the /vX.Y prefix from req.url and returns the version asked for, or answers dockerd's
 * 400 itself and returns undefined when the version is outside the supported range.
 */
export function negotiateVersion(req: IncomingMessage, res: ServerResponse): string | undefined {
  let version = MAX_API_VERSION;
  const m = VERSIONED.exec(req.url ?? '/');
  if (m) {
    version = m[1];
    req.url = m[2];
  }
  if (compareVersions(version, MAX_API_VERSION) > 0) {
    const body = `${JSON.stringify({ message: `client version ${version} is too new. Maximum supported API version is ${MAX_API_VERSION}` })}\n`;
    res.writeHead(400, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
    return undefined;
  }
  if (compareVersions(version, MIN_API_VERSION) < 0) {
    // dockerd answers this one in plain text.
    const body = `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version\n`;
    res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(body) }).end(body);
    return undefined;
  }
  return version;
}
