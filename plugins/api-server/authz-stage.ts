// The authorization stage every API request passes before dispatch (when authz plugins are
// configured). The body is read in full first, whatever Content-Length or Transfer-Encoding say,
// and replayed to the handler: plugins see exactly the bytes the handler reads (CVE-2024-41110).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { BerthError } from '../../core/plugin-api.js';
import type { AuthzRequest, AuthzService } from '../authz/index.js';
import { queryObject } from './param-routes.js';
import type { RequestTarget } from './request-target.js';

/** dockerd's authz body limit (raised to 4 MiB in 2024); larger bodies are refused, never skipped. */
export const AUTHZ_BODY_LIMIT = 4 << 20;
/** Non-streaming responses buffered for the response stage are bounded too. */
export const AUTHZ_RESPONSE_LIMIT = 4 << 20;

const HIDDEN_HEADERS = new Set(['authorization', 'x-registry-auth', 'x-registry-config']);

export interface Identity {
  user: string;
  authMethod: string;
  transport: AuthzRequest['transport'];
  peerCertificates: string[];
}

function pem(raw: Buffer): string {
  const b64 = raw.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}

/**
 * Who is asking. Under --tlsverify the client certificate's subject CN (auth method "TLS"); on
 * the unix socket nobody: the peer's uid (SO_PEERCRED) cannot be read from Node without a
 * native addon, and none of our dependencies offers it.
 */
export function identify(req: IncomingMessage, tlsverify: boolean): Identity {
  const socket = req.socket as TLSSocket;
  if (!socket.encrypted) return { user: '', authMethod: '', transport: socket.remoteAddress ? 'tcp' : 'unix', peerCertificates: [] };
  if (!tlsverify || !socket.authorized) return { user: '', authMethod: '', transport: 'tls', peerCertificates: [] };
  const chain: string[] = [];
  let cert = socket.getPeerCertificate(true);
  for (let i = 0; cert?.raw && i < 10; i++) {
    chain.push(pem(cert.raw));
    if (!cert.issuerCertificate || cert.issuerCertificate === cert) break;
    cert = cert.issuerCertificate;
  }
  const cn = socket.getPeerCertificate()?.subject?.CN;
  return { user: cn ? String(cn) : '', authMethod: cn ? 'TLS' : '', transport: 'tls', peerCertificates: chain };
}

/** True when the framing announces a body (a length above 0, or any transfer coding). */
export function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (len !== undefined && len !== '0');
}

/** Reads the whole body, refusing (without buffering more) one larger than the limit. */
export function readBody(req: IncomingMessage, limit = AUTHZ_BODY_LIMIT): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(new BerthError('E_INVALID', `request body too large for authorization: more than ${limit} bytes`));
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
    req.once('aborted', () => reject(new Error('client went away while sending the body')));
  });
}

/**
 * Refuses JSON bodies with a "__proto__" key: JSON.parse keeps it as a plain key, but any later
 * merge by assignment turns it into a prototype, and the handler could then read a field (say
 * Privileged) that no plugin saw. Only bodies that could hold one are parsed again.
 */
export function refusePrototypeKeys(body: Buffer): void {
  if (body.length === 0 || (!body.includes('proto') && !body.includes('\\u'))) return;
  let found = false;
  try {
    JSON.parse(body.toString('utf8'), (key, value) => {
      if (key === '__proto__') found = true;
      return value;
    });
  } catch {
    return; // not JSON: the handler refuses it too
  }
  if (found) throw new BerthError('E_INVALID', 'invalid JSON: "__proto__" keys are not allowed');
}

/** Makes the (fully read) request readable again with exactly these bytes, for any reader. */
export function replayBody(req: IncomingMessage, body: Buffer): void {
  Readable.call(req as unknown as Readable, {});
  (req as unknown as { _read: () => void })._read = () => {};
  if (body.length) req.push(body);
  req.push(null);
}

export function visibleHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || HIDDEN_HEADERS.has(k)) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** The request as plugins see it; query, headers and JSON are worked out only if a plugin reads them. */
class HttpAuthzRequest implements AuthzRequest {
  readonly user: string;
  readonly authMethod: string;
  readonly transport: AuthzRequest['transport'];
  readonly peerCertificates: string[];
  readonly method: string;
  readonly path: string;
  readonly apiVersion: string | undefined;
  readonly uri: string;
  readonly bodyStreamed: boolean;
  private parsedQuery: Record<string, string | string[]> | undefined;
  private shownHeaders: Record<string, string> | undefined;
  private parsed: { value: unknown } | undefined;

  constructor(private readonly req: IncomingMessage, who: Identity, private readonly target: RequestTarget, readonly body: Buffer | undefined, readonly hijacked: boolean) {
    this.user = who.user;
    this.authMethod = who.authMethod;
    this.transport = who.transport;
    this.peerCertificates = who.peerCertificates;
    this.method = req.method ?? 'GET';
    this.path = target.path;
    this.apiVersion = target.version;
    this.uri = `${target.version ? `/v${target.version}` : ''}${target.path}${target.query ? `?${target.query}` : ''}`;
    this.bodyStreamed = body === undefined;
  }

  get query(): Record<string, string | string[]> {
    return (this.parsedQuery ??= this.target.query ? queryObject(new URLSearchParams(this.target.query)) : {});
  }

  get headers(): Record<string, string> {
    return (this.shownHeaders ??= visibleHeaders(this.req.headers));
  }

  /** For logs and JSON.stringify: every field, the lazy ones included (the body as its length). */
  toJSON(): Record<string, unknown> {
    const { user, authMethod, transport, method, path, apiVersion, uri, query, headers, bodyStreamed, hijacked } = this;
    return { user, authMethod, transport, method, path, apiVersion, uri, query, headers, bodyLength: this.body?.length, bodyStreamed, hijacked };
  }

  json(): unknown {
    if (!this.parsed) {
      let value: unknown;
      try { value = this.body && this.body.length ? JSON.parse(this.body.toString('utf8')) : undefined; } catch { value = undefined; }
      this.parsed = { value };
    }
    return this.parsed.value;
  }
}

export function authzRequest(req: IncomingMessage, who: Identity, target: RequestTarget, body: Buffer | undefined, hijacked: boolean): AuthzRequest {
  return new HttpAuthzRequest(req, who, target, body, hijacked);
}

type Chunk = string | Buffer | Uint8Array;
const toBuffer = (c: Chunk, enc?: BufferEncoding) => (typeof c === 'string' ? Buffer.from(c, enc) : Buffer.from(c));

/**
 * Holds a response until the response stage has run. A handler that flushes its headers is
 * streaming: what it holds is sent and the rest passes through (authorized on the request only).
 */
export function holdResponse(res: ServerResponse, authz: AuthzService, ctx: AuthzRequest, onDenied: (err: unknown) => void): void {
  const orig = { writeHead: res.writeHead, write: res.write, end: res.end, flushHeaders: res.flushHeaders };
  const chunks: Buffer[] = [];
  let size = 0;
  let overflow = false;
  let headPending = false;
  const restore = () => Object.assign(res, orig);
  const passThrough = () => {
    restore();
    if (headPending) orig.writeHead.call(res, res.statusCode);
    for (const c of chunks.splice(0)) (orig.write as (c: Buffer) => boolean).call(res, c);
  };
  const hold = (chunk: unknown, enc?: unknown) => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
    const b = toBuffer(chunk as Chunk, typeof enc === 'string' ? (enc as BufferEncoding) : undefined);
    size += b.length;
    if (size > AUTHZ_RESPONSE_LIMIT) { overflow = true; chunks.length = 0; return; }
    if (!overflow) chunks.push(b);
  };
  res.writeHead = function writeHead(this: ServerResponse, status: number, ...rest: unknown[]) {
    res.statusCode = status;
    const headers = rest.find((r) => r && typeof r === 'object') as Record<string, string | number | string[]> | undefined;
    if (headers && !Array.isArray(headers)) for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    headPending = true;
    return res;
  } as ServerResponse['writeHead'];
  res.flushHeaders = () => {
    passThrough();
    res.flushHeaders();
  };
  res.write = function write(chunk: Chunk, enc?: unknown, cb?: unknown) {
    hold(chunk, enc);
    const done = [enc, cb].find((f) => typeof f === 'function') as (() => void) | undefined;
    if (done) process.nextTick(done);
    return true;
  } as ServerResponse['write'];
  res.end = function end(chunk?: unknown, enc?: unknown, cb?: unknown) {
    hold(chunk, enc);
    restore();
    const done = [chunk, enc, cb].find((f) => typeof f === 'function') as (() => void) | undefined;
    const body = Buffer.concat(chunks);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.getHeaders())) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
    const check = overflow
      ? Promise.reject(new BerthError('E_DENIED', `authorization denied: the response is larger than ${AUTHZ_RESPONSE_LIMIT} bytes, too large for the authorization plugins to inspect`))
      : authz.authorizeResponse(ctx, { statusCode: res.statusCode, headers, body });
    check.then(
      () => { (orig.end as (b: Buffer, cb?: () => void) => ServerResponse).call(res, body, done); },
      (err) => {
        for (const name of res.getHeaderNames()) if (!/^(api-version|docker-experimental|ostype|server|access-control-)/.test(name)) res.removeHeader(name);
        onDenied(err);
      },
    );
    return res;
  } as ServerResponse['end'];
}
