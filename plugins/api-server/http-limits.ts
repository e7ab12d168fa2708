// What a client may hold of the daemon before it has said anything useful: header size and time,
// idle request bodies, and file descriptors. dockerd (Go's net/http) is the reference for sizes
// and answers; its timeouts are too lax to copy (ReadHeaderTimeout 5 min, no body timeout).
import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';

/** Go's http.DefaultMaxHeaderBytes (1 MiB) plus the 4 KiB of bufio slack it reads beyond it. */
export const MAX_HEADER_BYTES = (1 << 20) + 4096;
/** Request line and headers must arrive within this; real clients send them in one write. */
export const HEADER_TIMEOUT_MS = 10_000;
/** A request body may pause this long (the client sending nothing while the daemon waits for it). */
export const BODY_IDLE_TIMEOUT_MS = 60_000;
/**
 * An idle keep-alive connection is closed after this. Node's default (5 s) races clients that reuse
 * a pooled connection just as the server closes it (they see ECONNRESET; dockerd, with no idle
 * timeout, never closes one): the soak's readers hit it under load. Long enough that the race is
 * rare, short enough that idle clients give their descriptors back.
 */
export const KEEP_ALIVE_IDLE_MS = 120_000;
/** How often timeouts are checked: they fire up to this much late. */
const CHECK_INTERVAL_MS = 1_000;
/** Go's rstAvoidanceDelay: after refusing, keep reading a while so the client sees the answer, not a reset. */
const LINGER_MS = 500;

/**
 * Options for every API server. No total request timeout (Node's default cuts any request whose
 * body takes over 5 minutes: a big `docker load`); streams (events, logs -f, attach) are replies,
 * not requests, so no timeout here touches them.
 */
export const serverOptions: ServerOptions = {
  maxHeaderSize: MAX_HEADER_BYTES,
  headersTimeout: HEADER_TIMEOUT_MS,
  requestTimeout: 0,
  connectionsCheckingInterval: CHECK_INTERVAL_MS,
};

/** The soft limit of open files; the daemon's budget for connections is a share of it. */
export function openFileLimit(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m && m[1] !== 'unlimited') return Number(m[1]);
  } catch { /* not Linux: fall through */ }
  return 1024;
}

const refused = new WeakSet<Duplex>();

/** Answers as Go's net/http does (plain text, connection closed), then lingers before closing. */
function refuse(socket: Duplex, status: string): void {
  refused.add(socket);
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${status}`);
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/**
 * The server's 'clientError' listener: an oversize request line or header gets Go's 431 (Node's
 * own answer is written just before it destroys a socket the client is still writing to, so the
 * client sees a reset), a malformed request gets 400, a header timeout or a reset just closes.
 */
export function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (refused.has(socket)) return; // the parser reports again for every chunk still arriving
  // A reply already under way must not get a second status line in the middle.
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (!socket.writable || inFlight || err.code === 'ECONNRESET' || err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    socket.destroy();
    return;
  }
  refuse(socket, err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request');
}

/**
 * Bounds what idle clients hold. Connections that have not yet sent a complete first request
 * share a budget (an eighth of the open-file limit, across listeners): over it, the oldest such
 * connection is closed, so a flood of slow-header clients cannot take the descriptors normal
 * clients need. Request bodies that stall (nothing received while the daemon waits) are cut
 * after BODY_IDLE_TIMEOUT_MS.
 */
export class ConnectionGuard {
  private readonly pending = new Set<Duplex>();
  private readonly bodies = new Map<IncomingMessage, { bytes: number; since: number }>();
  private readonly budget: number;
  private sweeper: NodeJS.Timeout | undefined;
  private lastAcceptWarning = 0;

  constructor(private readonly log: Logger, fileLimit = openFileLimit()) {
    this.budget = Math.max(16, Math.floor(fileLimit / 8));
  }

  /** Attaches to a server; `secure` servers are counted from the end of the TLS handshake. */
  watch(server: Server, secure: boolean): void {
    server.keepAliveTimeout = KEEP_ALIVE_IDLE_MS;
    server.on(secure ? 'secureConnection' : 'connection', (socket: Duplex) => this.admit(socket));
    server.on('request', (req: IncomingMessage) => this.started(req));
    server.on('upgrade', (req: IncomingMessage) => this.pending.delete(req.socket));
    server.on('clientError', onClientError);
    // accept(2) failing (EMFILE) is reported on the server: without a listener it kills the daemon.
    server.on('error', (err: NodeJS.ErrnoException) => {
      if (Date.now() - this.lastAcceptWarning < 10_000) return;
      this.lastAcceptWarning = Date.now();
      this.log.warn({ err: err.message, code: err.code }, 'API listener cannot accept connections');
    });
  }

  private admit(socket: Duplex): void {
    if (this.pending.size >= this.budget) {
      const oldest = this.pending.values().next().value as Duplex;
      this.pending.delete(oldest);
      oldest.destroy();
    }
    this.pending.add(socket);
    socket.once('close', () => this.pending.delete(socket));
  }

  private started(req: IncomingMessage): void {
    this.pending.delete(req.socket);
    const len = req.headers['content-length'];
    if (req.complete || (req.headers['transfer-encoding'] === undefined && (len === undefined || len === '0'))) return;
    this.bodies.set(req, { bytes: (req.socket as Socket).bytesRead, since: Date.now() });
    this.sweeper ??= setInterval(() => this.sweep(), CHECK_INTERVAL_MS).unref();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [req, seen] of this.bodies) {
      if (req.complete || req.destroyed) {
        this.bodies.delete(req);
        continue;
      }
      const bytes = (req.socket as Socket).bytesRead;
      // Data waiting in the request stream means the daemon is the slow side, not the client.
      if (bytes !== seen.bytes || req.readableLength > 0) {
        seen.bytes = bytes;
        seen.since = now;
      } else if (now - seen.since >= BODY_IDLE_TIMEOUT_MS) {
        this.bodies.delete(req);
        this.log.debug({ method: req.method, url: req.url }, 'request body idle too long: connection closed');
        req.socket.destroy();
      }
    }
    if (this.bodies.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.bodies.clear();
    this.pending.clear();
  }
}
