// A fault injector in front of a real registry, on 127.0.0.1: it forwards every request and,
// when told to, corrupts a blob, drops the connection halfway through one, redirects blobs to
// another host, holds a blob back forever or until released, or serves a schema1 manifest for a tag.
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface Faults {
  /** Blob digests whose bytes are altered (one byte flipped halfway). */
  corrupt?: Set<string>;
  /** Blob digests whose first full GET is cut off after half the body. */
  dropOnce?: Set<string>;
  /** Blob GETs answer 307 to <redirectTo>/blobs/<digest>. */
  redirectTo?: string;
  /** Blob digests never answered (until the proxy stops). */
  stall?: Set<string>;
  /** Blob digests answered only once release() is called (with the other faults then). */
  hold?: Set<string>;
  /** Range headers are dropped: the registry answers every blob GET in full. */
  noRange?: boolean;
  /** The next N requests answer 503 Service Unavailable. */
  busy?: number;
  /** Tags answered with a schema1 manifest. */
  schema1Tags?: Set<string>;
}

export interface FaultProxy {
  host: string;
  faults: Faults;
  requests: { method: string; url: string; headers: IncomingHttpHeaders }[];
  /** Blob GETs in flight now, and the most seen at once. */
  inFlight: { now: number; max: number };
  /** Blob uploads (PATCH) in flight now, and the most seen at once. */
  uploads: { now: number; max: number };
  stalled: () => number;
  /** Answers the blob requests held back by `hold`, and those to come. */
  release: () => void;
  stop: () => Promise<void>;
}

const SCHEMA1 = JSON.stringify({ schemaVersion: 1, name: 't/busybox', tag: 'old', architecture: 'amd64', fsLayers: [], history: [] });

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const faults: Faults = {};
  const requests: FaultProxy['requests'] = [];
  const inFlight = { now: 0, max: 0 };
  const uploads = { now: 0, max: 0 };
  const sockets = new Set<Socket>();
  const held: ServerResponse[] = [];
  let onHold: (() => void)[] = [];
  const [targetHost, targetPort] = target.split(':');
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (faults.busy) {
      faults.busy--;
      res.writeHead(503, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"UNAVAILABLE","message":"service unavailable"}]}');
      return;
    }
    const blob = /^\/v2\/.+\/blobs\/(sha256:[a-f0-9]{64})$/.exec(req.url ?? '')?.[1];
    const manifestTag = /^\/v2\/.+\/manifests\/([^/]+)$/.exec(req.url ?? '')?.[1];
    if (manifestTag && faults.schema1Tags?.has(manifestTag)) {
      res.writeHead(200, { 'Content-Type': 'application/vnd.docker.distribution.manifest.v1+prettyjws', 'Content-Length': Buffer.byteLength(SCHEMA1) });
      res.end(req.method === 'HEAD' ? undefined : SCHEMA1);
      return;
    }
    if (blob && req.method === 'GET') {
      if (faults.stall?.has(blob)) { held.push(res); return; }
      if (faults.hold?.has(blob)) { onHold.push(() => forward(req, res, blob)); return; }
      if (faults.redirectTo) {
        res.writeHead(307, { Location: `${faults.redirectTo}/blobs/${blob}` }).end();
        return;
      }
    }
    forward(req, res, blob);
  });
  const forward = (req: IncomingMessage, res: ServerResponse, blob: string | undefined) => {
    const counter = blob && req.method === 'GET' ? inFlight : req.method === 'PATCH' ? uploads : undefined;
    if (counter) { counter.now++; counter.max = Math.max(counter.max, counter.now); }
    let done = false;
    const finish = () => { if (counter && !done) { done = true; counter.now--; } };
    res.on('close', finish);
    const headers = { ...req.headers };
    if (faults.noRange) delete headers.range;
    const up = request({ host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers }, (upRes) => {
      const drop = blob && !req.headers.range && faults.dropOnce?.has(blob);
      const corrupt = blob && faults.corrupt?.has(blob);
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      const total = Number(upRes.headers['content-length'] ?? 0);
      let sent = 0;
      let cut = false;
      upRes.on('data', (chunk: Buffer) => {
        if (cut) return;
        let c = chunk;
        if (corrupt && sent <= total / 2 && sent + c.length > total / 2) {
          c = Buffer.from(c);
          const i = Math.floor(total / 2) - sent;
          c[i] ^= 0xff;
        }
        if (drop && sent + c.length > total / 2) {
          faults.dropOnce?.delete(blob); // once
          cut = true;
          res.write(c.subarray(0, Math.max(1, Math.floor(total / 2) - sent)));
          upRes.destroy();
          res.socket?.destroy();
          return;
        }
        sent += c.length;
        res.write(c);
      });
      upRes.on('end', () => res.end());
      upRes.on('error', () => res.destroy());
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  };
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    host: `127.0.0.1:${port}`, faults, requests, inFlight, uploads,
    stalled: () => held.length,
    release: () => {
      delete faults.hold;
      const waiting = onHold;
      onHold = [];
      for (const go of waiting) go();
    },
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
