// Registry error bodies ({"errors":[{"code","message"}]}) in the words dockerd prints them, and
// the Go url.Error form (Get "url": cause) that dockerd's transport errors take.
import type { IncomingMessage } from 'node:http';
import { BerthError, notFound, systemError } from '../../core/plugin-api.js';
import { goMethod, readBody } from './http-request.js';

export interface RegistryErrorBody {
  errors?: { code?: string; message?: string; detail?: unknown }[];
  details?: string;
}

/** "manifest unknown: manifest unknown", as Go's errcode.Error formats a registry error. */
export function describeErrors(status: number, body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as RegistryErrorBody;
    const list = (parsed.errors ?? []).map((e) => `${String(e.code ?? 'unknown').toLowerCase().replace(/_/g, ' ')}: ${e.message ?? ''}`);
    if (list.length === 1) return list[0];
    if (list.length > 1) return `errors:\n${list.join('\n')}\n`;
    if (typeof parsed.details === 'string') return `${status === 401 ? 'unauthorized' : 'error'}: ${parsed.details}`;
  } catch { /* not JSON */ }
  if (status === 401) return 'unauthorized: authentication required';
  const text = body.toString('utf8').trim().slice(0, 200);
  return `received unexpected HTTP status: ${status} ${statusText(status)}${text ? ` (${text})` : ''}`;
}

const statusText = (s: number) => ({ 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 416: 'Requested Range Not Satisfiable', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' } as Record<number, string>)[s] ?? '';
export { statusText };

/** Reads an error response and turns it into a coded error (404 stays a 404 for the CLI). */
export async function responseError(res: IncomingMessage, prefix = ''): Promise<BerthError> {
  const body = await readBody(res, 1 << 20).catch(() => Buffer.alloc(0));
  const msg = `${prefix}${describeErrors(res.statusCode ?? 0, body)}`;
  return res.statusCode === 404 ? notFound(msg) : systemError(msg);
}

export const urlError = (method: string, url: URL | string, cause: string) => systemError(`${goMethod(method)} "${String(url)}": ${cause}`);
