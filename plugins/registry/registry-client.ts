// A session with one registry endpoint for one set of credentials: finds the endpoint's scheme
// and auth challenge with GET /v2/, authorises each request (basic, or a bearer token for the
// request's scope), retries transient failures with back-off, and follows redirects itself so
// that credentials never go to a host other than the registry's.
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { AuthConfig } from '../../lib/registry-auth.js';
import { parseChallenges, type Challenge } from './challenge.js';
import type { Endpoint } from './endpoints.js';
import { readBody, send } from './http-request.js';
import { urlError } from './registry-errors.js';
import type { TokenCache } from './token-cache.js';

export interface RequestOptions {
  /** Token scopes, e.g. repository:t/busybox:pull. */
  scopes?: string[];
  headers?: OutgoingHttpHeaders;
  body?: Buffer | Readable;
  signal?: AbortSignal;
  /** Retry transient failures (only for requests without a stream body). */
  retry?: boolean;
}

const TRANSIENT = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ECONNABORTED']);
const isTransient = (err: any) => TRANSIENT.has(err?.code) || /timeout|socket hang up|aborted/i.test(String(err?.message));
// The listener goes when the back-off ends: a pull's signal lives through many retries.
const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve, reject) => {
  const abort = () => { clearTimeout(t); reject(signal!.reason); };
  const t = setTimeout(() => { signal?.removeEventListener('abort', abort); resolve(); }, ms);
  signal?.addEventListener('abort', abort, { once: true });
});

export class RegistryClient {
  private base?: URL;
  private challenges: Challenge[] = [];

  constructor(
    readonly endpoint: Endpoint,
    private readonly creds: AuthConfig | undefined,
    private readonly tokens: TokenCache,
    private readonly log: Logger,
    private readonly attempts = 5,
    /** The scheme that answered last time, per host: an insecure registry is not probed with TLS again. */
    private readonly known = new Map<string, string>(),
  ) {}

  /** GET /v2/ without credentials: picks the scheme and learns the auth challenge. */
  async ping(signal?: AbortSignal): Promise<URL> {
    if (this.base) return this.base;
    let lastErr: unknown;
    const last = this.known.get(this.endpoint.bases[0].host);
    const bases = [...this.endpoint.bases].sort((a, b) => Number(b.protocol === last) - Number(a.protocol === last));
    for (const base of bases) {
      const url = new URL('/v2/', base);
      try {
        let res = await send({ method: 'GET', url, tls: this.endpoint.tls, signal, timeoutMs: 15_000 });
        for (let attempt = 1; attempt < this.attempts && res.statusCode && (res.statusCode >= 500 || res.statusCode === 429); attempt++) {
          res.resume();
          await sleep(Math.min(5_000, 250 * 2 ** (attempt - 1)), signal);
          res = await send({ method: 'GET', url, tls: this.endpoint.tls, signal, timeoutMs: 15_000 });
        }
        await readBody(res).catch(() => {});
        // A plain HTTP server answering a TLS hello, or a non-registry: try the next scheme.
        if (res.statusCode !== 200 && res.statusCode !== 401) {
          // Plain HTTP answered 400 to a TLS server: the HTTPS attempt's error says more.
          if (!(res.statusCode === 400 && lastErr)) lastErr = new Error(`unexpected status ${res.statusCode} from ${url}`);
          continue;
        }
        this.challenges = res.statusCode === 401 ? parseChallenges(res.headers['www-authenticate']) : [];
        this.base = base;
        this.known.set(base.host, base.protocol);
        return base;
      } catch (err) {
        if (signal?.aborted) throw err;
        lastErr = err;
        this.log.debug({ url: String(url), err: (err as Error).message }, 'registry ping failed');
      }
    }
    throw urlError('GET', new URL('/v2/', this.endpoint.bases[0]), (lastErr as Error)?.message ?? 'unreachable');
  }

  url(path: string): URL {
    if (!this.base) throw new Error('registry client used before ping');
    return new URL(path, this.base);
  }

  /** The Authorization header for a request, or none; throws dockerd's message without credentials. */
  private async authorization(method: string, url: URL, scopes: string[], signal?: AbortSignal): Promise<string | undefined> {
    const creds = this.endpoint.mirror ? undefined : this.creds;
    const bearer = this.challenges.find((c) => c.scheme === 'bearer');
    if (bearer) {
      if (creds?.registrytoken) return `Bearer ${creds.registrytoken}`;
      try {
        return `Bearer ${await this.tokens.get(bearer.params, scopes, creds, this.endpoint.tls, signal)}`;
      } catch (err) {
        throw urlError(method, url, (err as Error).message);
      }
    }
    if (this.challenges.some((c) => c.scheme === 'basic')) {
      if (!creds?.username || !creds.password) throw urlError(method, url, 'no basic auth credentials');
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    return undefined;
  }

  /**
   * Sends a request to a path (or a full URL the registry gave, e.g. an upload location) and
   * returns the final response, whatever its status; 3xx are followed for GET and HEAD.
   */
  async request(method: string, pathOrUrl: string | URL, o: RequestOptions = {}): Promise<IncomingMessage> {
    await this.ping(o.signal);
    const first = typeof pathOrUrl === 'string' ? this.url(pathOrUrl) : pathOrUrl;
    const retry = o.retry ?? (!o.body || Buffer.isBuffer(o.body));
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.once(method, first, o);
        // A registry answering 5xx or 429 may be restarting or busy: try again, then report it.
        if (retry && attempt < this.attempts && res.statusCode && (res.statusCode >= 500 || res.statusCode === 429)) {
          res.resume();
          this.log.info({ url: String(first), attempt, status: res.statusCode }, 'registry busy or failing, retrying');
          await sleep(Math.min(5_000, 250 * 2 ** (attempt - 1)), o.signal);
          continue;
        }
        return res;
      } catch (err) {
        if (!retry || attempt >= this.attempts || !isTransient(err) || o.signal?.aborted) {
          if ((err as any)?.code && !(err as any).statusCode) throw urlError(method, first, (err as Error).message);
          throw err;
        }
        this.log.info({ url: String(first), attempt, err: (err as Error).message }, 'registry request failed, retrying');
        await sleep(Math.min(5_000, 250 * 2 ** (attempt - 1)), o.signal);
      }
    }
  }

  private async once(method: string, first: URL, o: RequestOptions): Promise<IncomingMessage> {
    const origin = this.base!.origin;
    let url = first;
    const auth = await this.authorization(method, url, o.scopes ?? [], o.signal);
    for (let hops = 0; hops < 10; hops++) {
      const sameHost = url.origin === origin;
      const headers: OutgoingHttpHeaders = { ...o.headers };
      // Credentials belong to the registry: a redirect to blob storage elsewhere gets none.
      if (auth && sameHost) headers.Authorization = auth;
      const res = await send({ method, url, headers, body: hops === 0 ? o.body : undefined, tls: this.endpoint.tls, signal: o.signal });
      const loc = res.headers.location;
      if (res.statusCode && [301, 302, 303, 307, 308].includes(res.statusCode) && loc && (method === 'GET' || method === 'HEAD')) {
        res.resume();
        url = new URL(loc, url);
        continue;
      }
      return res;
    }
    throw urlError(method, first, 'stopped after 10 redirects');
  }
}
