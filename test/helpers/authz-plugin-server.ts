// A Docker authz plugin written for tests: an HTTP server on a unix socket speaking the AuthZ
// protocol (Plugin.Activate, AuthZPlugin.AuthZReq, AuthZPlugin.AuthZRes), recording each call.
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';

/** An answer that never comes (timeouts). */
export const HANG = Symbol('hang');

export interface AuthzCall {
  method: string;
  contentType: string | undefined;
  doc: Record<string, any>;
}

export interface FakeAuthzPlugin {
  socket: string;
  calls: AuthzCall[];
  /** Decides AuthZReq answers; the default allows everything. */
  onRequest: (doc: Record<string, any>) => unknown;
  onResponse: (doc: Record<string, any>) => unknown;
  stop: () => Promise<void>;
}

export async function startFakeAuthzPlugin(socket: string): Promise<FakeAuthzPlugin> {
  rmSync(socket, { force: true });
  const plugin: FakeAuthzPlugin = {
    socket,
    calls: [],
    onRequest: () => ({ Allow: true }),
    onResponse: () => ({ Allow: true }),
    stop: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
  const server: Server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const doc = text ? JSON.parse(text) : {};
      plugin.calls.push({ method: req.url ?? '', contentType: req.headers['content-type'], doc });
      const answer = req.url === '/Plugin.Activate' ? { Implements: ['authz'] }
        : req.url === '/AuthZPlugin.AuthZReq' ? plugin.onRequest(doc)
          : req.url === '/AuthZPlugin.AuthZRes' ? plugin.onResponse(doc)
            : undefined;
      if (answer === HANG) return;
      if (answer === undefined) {
        res.writeHead(404, { 'Content-Type': 'application/vnd.docker.plugins.v1.2+json' }).end(JSON.stringify({ Err: `unknown method ${req.url}` }));
      } else if (typeof answer === 'string') {
        res.writeHead(200, { 'Content-Type': 'application/vnd.docker.plugins.v1.2+json' }).end(answer); // raw (garbage) answers
      } else {
        res.writeHead(200, { 'Content-Type': 'application/vnd.docker.plugins.v1.2+json' }).end(JSON.stringify(answer));
      }
    });
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(socket, () => resolve()); });
  return plugin;
}

/** The decoded RequestBody of a call ('' when none). */
export const bodyOf = (doc: Record<string, any>): string => (doc.RequestBody ? Buffer.from(doc.RequestBody, 'base64').toString('utf8') : '');
