// Calls a Docker-protocol plugin: POST /Iface.Method with JSON, over a unix socket or TCP (TLS),
// with a deadline and a bounded answer. Errors carry the method, as dockerd's plugin client does
// ("VolumeDriver.Create: <why>"), and say whether the plugin answered at all.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { PluginAddress } from './discover.js';

import { defaultTrust } from '../trusted-cas.js';

// node:https (and tls under it) loads only for a TLS plugin address: it is not on the start-up path.
const require = createRequire(import.meta.url);
const https = () => require('node:https') as typeof import('node:https');

export const PLUGIN_MEDIA_TYPE = 'application/vnd.docker.plugins.v1.2+json';
const MAX_ANSWER = 4 << 20;

/**
 * A failed call. `status` is the HTTP status when the plugin answered (its `Err`, or its body, is
 * the message); undefined when it did not (not listening, timed out, connection cut, bad JSON).
 */
export class PluginCallError extends Error {
  constructor(readonly method: string, readonly why: string, readonly status?: number) {
    super(`${method}: ${why}`);
  }

  /** The plugin is unreachable or broke the protocol: worth rediscovering and re-activating. */
  get transport(): boolean {
    return this.status === undefined;
  }
}

/** The `Err` a plugin put in a 200 answer, as an error (dockerd's generated proxies check it on every call). */
export function answerError(method: string, answer: unknown): PluginCallError | undefined {
  const err = (answer as { Err?: unknown } | null | undefined)?.Err;
  return typeof err === 'string' && err !== '' ? new PluginCallError(method, err, 200) : undefined;
}

export class PluginClient {
  private readonly agent: HttpAgent;

  constructor(readonly address: PluginAddress) {
    const tls = address.kind === 'tcp' ? address.tls : undefined;
    // Keep-alive: one connection per concurrent request, reused, instead of a connect per call.
    this.agent = tls
      ? new (https().Agent)({ keepAlive: true, ca: tls.ca ?? defaultTrust(), cert: tls.cert, key: tls.key, rejectUnauthorized: !tls.insecureSkipVerify })
      : new HttpAgent({ keepAlive: true });
  }

  close(): void {
    this.agent.destroy();
  }

  call(method: string, args: unknown, timeoutMs: number): Promise<unknown> {
    return this.send(method, args === undefined ? '' : JSON.stringify(args), timeoutMs, true);
  }

  private send(method: string, body: string, timeoutMs: number, mayRetry: boolean): Promise<unknown> {
    const a = this.address;
    const target = a.kind === 'unix' ? { socketPath: a.path } : { host: a.host, port: a.port };
    const send = a.kind === 'tcp' && a.tls ? https().request : httpRequest;
    return new Promise((resolve, reject) => {
      const fail = (why: string, status?: number) => reject(new PluginCallError(method, why, status));
      const req = send({
        ...target, agent: this.agent, method: 'POST', path: `/${method}`, timeout: timeoutMs,
        headers: { Accept: PLUGIN_MEDIA_TYPE, 'Content-Type': PLUGIN_MEDIA_TYPE, 'Content-Length': Buffer.byteLength(body) },
      }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_ANSWER) { req.destroy(); fail(`answer larger than ${MAX_ANSWER} bytes`); return; }
          chunks.push(c);
        });
        res.on('error', (err) => fail(err.message));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let data: unknown;
          try { data = text ? JSON.parse(text) : undefined; } catch { data = undefined; }
          if (res.statusCode !== 200) {
            const err = (data as { Err?: unknown } | undefined)?.Err;
            return fail(typeof err === 'string' && err ? err : text.trim() || `status ${res.statusCode}`, res.statusCode);
          }
          if (data === undefined) return fail(`invalid JSON answer: ${JSON.stringify(text.slice(0, 200))}`);
          resolve(data);
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A kept-alive connection the plugin closed while idle (it restarted, or timed it out):
        // the request never reached it, so send it once more on a new connection (Go's
        // transport does the same), which also tells a stopped plugin from a dropped connection.
        if (mayRetry && req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
          this.send(method, body, timeoutMs, false).then(resolve, reject);
          return;
        }
        fail(err.message);
      });
      req.end(body);
    });
  }
}
