// A Docker plugin written for tests: an HTTP server on a unix socket (or a loopback TCP port)
// speaking Docker's plugin protocol — Plugin.Activate with the given Implements, then whatever
// methods the test answers — recording each call.
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An answer that never comes (timeouts). */
export const HANG = Symbol('hang');

export interface PluginCall {
  method: string;
  contentType: string | undefined;
  doc: Record<string, any>;
}

export interface DockerPluginServer {
  /** unix:///path or tcp://127.0.0.1:port: what a NAME.spec file holds. */
  address: string;
  calls: PluginCall[];
  stop: () => Promise<void>;
}

const MEDIA = 'application/vnd.docker.plugins.v1.2+json';

/**
 * `answer(url, doc)` gives the answer to POST url: an object (sent as JSON), a string (sent raw),
 * HANG, or undefined for a 404 with Err "unknown method".
 */
export async function startDockerPluginServer(
  listen: { socket: string } | { tcp: true },
  implementsList: string[],
  answer: (url: string, doc: Record<string, any>) => unknown,
): Promise<DockerPluginServer> {
  if ('socket' in listen) rmSync(listen.socket, { force: true });
  const calls: PluginCall[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const doc = text ? JSON.parse(text) : {};
      calls.push({ method: req.url ?? '', contentType: req.headers['content-type'], doc });
      const a = req.url === '/Plugin.Activate' ? { Implements: implementsList } : answer(req.url ?? '', doc);
      if (a === HANG) return;
      if (a === undefined) res.writeHead(404, { 'Content-Type': MEDIA }).end(JSON.stringify({ Err: `unknown method ${req.url}` }));
      else res.writeHead(200, { 'Content-Type': MEDIA }).end(typeof a === 'string' ? a : JSON.stringify(a));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if ('socket' in listen) server.listen(listen.socket, () => resolve());
    else server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = 'socket' in listen ? `unix://${listen.socket}` : `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    address,
    calls,
    stop: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}
