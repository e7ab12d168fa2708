// Hijacked connections (attach, exec start): the request is answered with 101 UPGRADED and the
// connection becomes a raw two-way byte pipe, as dockerd does. Node hands such requests to the
// server's 'upgrade' event, unparsed beyond the headers: the body (exec start's JSON) is read here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { type DaemonInfo, invalid, messageOf, statusOf } from '../../core/plugin-api.js';
import type { AuthzService } from '../authz/index.js';
import { MAX_API_VERSION, versionProblem } from './api-version.js';
import { authzRequest, AUTHZ_BODY_LIMIT, hasBody, readBody as readRequestBody, refusePrototypeKeys, type Identity } from './authz-stage.js';
import { compilePath, queryObject } from './param-routes.js';
import { parseTarget, refuseMethodOverride } from './request-target.js';
import type { ApiRequest } from './service.js';

export interface Hijacked {
  /** The request body (exec start's JSON), already read from the connection. */
  body: Buffer;
  /** Answers 101 and returns the raw connection; the caller owns it from then on. */
  upgrade(contentType: string): Duplex;
  /** Answers an error with dockerd's status code and JSON message, and closes. */
  fail(err: unknown): void;
  /** Answers without hijacking (exec start with Detach): an empty 200, and closes. */
  done(): void;
}

export type HijackHandler = (req: ApiRequest, conn: Hijacked) => Promise<void>;

export interface ListenerOptions {
  commonHeaders: Record<string, string>;
  daemon: DaemonInfo;
  log: Logger;
  authz: AuthzService;
  identify: (req: IncomingMessage) => Identity;
}

/** How a hijacked request is read and answered: on an upgraded socket, or as a plain response. */
interface Transport {
  readBody(): Promise<{ body: Buffer; rest: Buffer }>;
  respond(status: number, body: string, type: string): void;
  upgrade(contentType: string, rest: Buffer): Duplex;
  destroy(): void;
}

interface Entry { method: string; pattern: RegExp; keys: string[]; handler: HijackHandler }

const STATUS_TEXT: Record<number, string> = { 200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 500: 'Internal Server Error', 503: 'Service Unavailable' };

/** Reads what the client sent after the headers: Content-Length bytes, or a chunked body. */
async function readBody(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<{ body: Buffer; rest: Buffer }> {
  let buf = head;
  const more = () => new Promise<boolean>((resolve) => {
    const onData = (c: Buffer) => { cleanup(); buf = Buffer.concat([buf, c]); resolve(true); };
    const onEnd = () => { cleanup(); resolve(false); };
    const cleanup = () => { socket.off('data', onData); socket.off('end', onEnd); socket.off('close', onEnd); socket.pause(); };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.resume();
  });
  const length = Number(req.headers['content-length'] ?? 0);
  if (String(req.headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) {
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      let eol = buf.indexOf('\r\n');
      while (eol < 0) { if (!(await more())) return { body: Buffer.concat(parts), rest: Buffer.alloc(0) }; eol = buf.indexOf('\r\n'); }
      const size = parseInt(buf.subarray(0, eol).toString(), 16);
      if (!Number.isFinite(size) || size < 0 || size > AUTHZ_BODY_LIMIT) throw invalid('bad chunked body');
      total += size;
      if (total > AUTHZ_BODY_LIMIT) throw invalid(`request body too large: more than ${AUTHZ_BODY_LIMIT} bytes`);
      while (buf.length < eol + 2 + size + 2) if (!(await more())) throw new Error('truncated chunked body');
      if (size === 0) return { body: Buffer.concat(parts), rest: buf.subarray(eol + 4) };
      parts.push(buf.subarray(eol + 2, eol + 2 + size));
      buf = buf.subarray(eol + 2 + size + 2);
    }
  }
  if (!Number.isSafeInteger(length) || length < 0) throw invalid('bad Content-Length');
  if (length > AUTHZ_BODY_LIMIT) throw invalid(`request body too large: more than ${AUTHZ_BODY_LIMIT} bytes`);
  while (buf.length < length) if (!(await more())) break;
  return { body: buf.subarray(0, length), rest: buf.subarray(length) };
}

export class HijackRoutes {
  private readonly entries: Entry[] = [];
  /** Upgraded connections: the HTTP server no longer tracks them, shutdown must end them. */
  private readonly live = new Set<Duplex>();

  closeAll(): void {
    for (const s of this.live) s.destroy();
    this.live.clear();
  }

  add(method: string, path: string, handler: HijackHandler): void {
    this.entries.push({ method: method.toUpperCase(), ...compilePath(path), handler });
  }

  /** Whether a hijacking route serves this request (the dispatcher hands it over when it has no Upgrade header). */
  matches(method: string | undefined, path: string): boolean {
    return this.entries.some((e) => e.method === method && e.pattern.test(path));
  }

  /** The 'upgrade' event listener for the API servers. */
  listener(o: ListenerOptions) {
    const headerLines = Object.entries(o.commonHeaders).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    return async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', (err) => o.log.debug({ err: err.message }, 'hijacked connection error'));
      await this.serve(o, req, {
        readBody: () => readBody(req, socket, head),
        respond: (status, body, type) => {
          const typeLine = type ? `Content-Type: ${type}\r\n` : '';
          socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n${headerLines}${typeLine}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        },
        upgrade: (contentType, rest) => {
          this.live.add(socket);
          socket.once('close', () => this.live.delete(socket));
          socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n${headerLines}\r\n`);
          // Bytes the client sent after the body (early stdin) are replayed to the reader.
          if (rest.length) socket.unshift(rest);
          return socket;
        },
        destroy: () => socket.destroy(),
      });
    };
  }

  /**
   * A hijacking route asked without an Upgrade header (dockerode's attach, exec start without
   * hijack): dockerd hijacks all the same and answers "200 OK" with the raw stream, delimited by
   * the connection's close. Node's parser keeps the connection, so the stream goes out as the
   * response body (no chunking, then close) and nothing more is read from the client.
   */
  serveWithoutUpgrade(o: ListenerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.serve(o, req, {
      readBody: async () => ({ body: hasBody(req) ? await readRequestBody(req) : Buffer.alloc(0), rest: Buffer.alloc(0) }),
      respond: (status, body, type) => {
        res.writeHead(status, { ...(type ? { 'Content-Type': type } : {}), 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      },
      upgrade: (contentType) => {
        res.useChunkedEncodingByDefault = false;
        res.shouldKeepAlive = false;
        res.writeHead(200, { 'Content-Type': contentType });
        res.flushHeaders();
        const conn = new Duplex({
          read() {},
          write(chunk, _enc, cb) { res.write(chunk, cb); },
          final(cb) { res.end(() => cb()); },
          destroy(err, cb) { if (!res.writableFinished) res.destroy(); cb(err); },
        });
        res.once('close', () => conn.destroy());
        this.live.add(conn);
        conn.once('close', () => this.live.delete(conn));
        return conn;
      },
      destroy: () => res.destroy(),
    });
  }

  private async serve(o: ListenerOptions, req: IncomingMessage, t: Transport): Promise<void> {
    const fail = (err: unknown) => t.respond(statusOf(err), `${JSON.stringify({ message: messageOf(err) })}\n`, 'application/json');
    try {
      const target = parseTarget(req.url ?? '/');
      refuseMethodOverride(req.headers);
      const version = target.version ?? MAX_API_VERSION;
      const problem = versionProblem(version);
      if (problem) return t.respond(400, problem.body, problem.type);
      const path = target.path;
      const url = target.query ? `${path}?${target.query}` : path;
      // Read before authorizing: plugins see the body the handler gets.
      const { body, rest } = await t.readBody();
      if (o.authz.active()) {
        refusePrototypeKeys(body);
        await o.authz.authorizeRequest(authzRequest(req, o.identify(req), target, body, true));
      }
      if (!o.daemon.isReady()) await o.daemon.whenReady();
      for (const e of this.entries) {
        const hit = e.method === req.method ? e.pattern.exec(path) : null;
        if (!hit) continue;
        const r = req as ApiRequest;
        r.url = url;
        r.apiVersion = version;
        r.params = Object.fromEntries(e.keys.map((k, i) => [k, hit[i + 1]]));
        r.query = target.query ? queryObject(new URLSearchParams(target.query)) : {};
        let upgraded = false;
        await e.handler(r, {
          body,
          upgrade: (contentType) => {
            upgraded = true;
            return t.upgrade(contentType, rest);
          },
          fail: (err) => { if (!upgraded) fail(err); else t.destroy(); },
          done: () => { if (!upgraded) t.respond(200, '', ''); },
        });
        return;
      }
      t.respond(404, `${JSON.stringify({ message: 'page not found' })}\n`, 'application/json');
    } catch (err) {
      fail(err);
    }
  }
}
