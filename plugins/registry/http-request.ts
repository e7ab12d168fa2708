// One HTTP exchange with node's http/https (no redirects followed here): the registry client
// decides what to do with 3xx, 401 and errors. Idle sockets time out instead of hanging a pull.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';

export interface TlsFiles {
  ca?: string[];
  cert?: string;
  key?: string;
  /** false for insecure registries reached over https. */
  verify: boolean;
}

export interface Exchange {
  method: string;
  url: URL;
  headers?: OutgoingHttpHeaders;
  body?: Buffer | Readable;
  tls?: TlsFiles;
  /** Socket idle time allowed, connecting included. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

// Made on first use: a module may not hold sockets' machinery from when it loads (start-up snapshot).
let plainAgent: HttpAgent | undefined;
const httpAgent = () => (plainAgent ??= new HttpAgent({ keepAlive: true, maxSockets: 32 }));
const httpsAgents = new Map<string, HttpsAgent>();

function agentFor(tls: TlsFiles | undefined): HttpsAgent {
  const key = JSON.stringify(tls ?? {});
  let a = httpsAgents.get(key);
  if (!a) {
    a = new HttpsAgent({
      keepAlive: true, maxSockets: 32,
      ...(tls?.ca ? { ca: tls.ca } : {}), ...(tls?.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}),
      rejectUnauthorized: tls?.verify ?? true,
    });
    httpsAgents.set(key, a);
  }
  return a;
}

/** Go's url.Error prefix, which dockerd's messages carry: Get "http://…/v2/": … */
export const goMethod = (m: string) => m.charAt(0) + m.slice(1).toLowerCase();

export function send(x: Exchange): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const https = x.url.protocol === 'https:';
    const req = (https ? httpsRequest : httpRequest)(x.url, {
      method: x.method,
      headers: { 'User-Agent': 'berth/0.1 (linux)', ...x.headers },
      agent: https ? agentFor(x.tls) : httpAgent(),
      signal: x.signal,
    }, (res) => {
      res.setTimeout(x.timeoutMs ?? 60_000, () => res.destroy(new Error('read timeout')));
      resolve(res);
    });
    req.setTimeout(x.timeoutMs ?? 60_000, () => req.destroy(new Error('i/o timeout')));
    req.on('error', reject);
    if (!x.body) req.end();
    else if (Buffer.isBuffer(x.body)) req.end(x.body);
    else {
      x.body.on('error', (err) => req.destroy(err));
      x.body.pipe(req);
    }
  });
}

export async function readBody(res: IncomingMessage, limit = 8 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res) {
    n += c.length;
    if (n > limit) { res.destroy(); throw new Error(`response larger than ${limit} bytes`); }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}
