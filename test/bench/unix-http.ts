// Minimal HTTP over a unix socket: the only traffic the benchmark makes.
import { createReadStream, statSync } from 'node:fs';
import { request, type Agent } from 'node:http';

/**
 * GETs path and resolves with the status once the body is consumed (which lets a
 * keep-alive agent reuse the connection). agent false opens a fresh connection.
 */
export function getStatus(socketPath: string, path: string, agent: Agent | false = false, timeoutMs = 5_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', agent, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export interface Reply {
  status: number;
  body: string;
}

/**
 * POSTs a file as the request body (streamed, never read whole) and resolves with the status
 * and the whole response body once the daemon has ended it. Fails when the socket stays idle
 * for idleMs or the whole exchange takes longer than totalMs.
 */
export function postFile(socketPath: string, path: string, file: string, contentType: string, idleMs = 60_000, totalMs = 300_000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const size = statSync(file).size;
    const req = request({
      socketPath, path, method: 'POST', agent: false, timeout: idleMs,
      headers: { 'Content-Type': contentType, 'Content-Length': size },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { clearTimeout(timer); resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }); });
      res.on('error', fail);
    });
    const timer = setTimeout(() => req.destroy(new Error(`POST ${path} took longer than ${totalMs} ms`)), totalMs);
    function fail(err: Error): void {
      clearTimeout(timer);
      body.destroy();
      reject(err);
    }
    req.on('timeout', () => req.destroy(new Error(`POST ${path}: no traffic for ${idleMs} ms`)));
    req.on('error', fail);
    const body = createReadStream(file);
    body.on('error', (err) => req.destroy(err));
    body.pipe(req);
  });
}

/** One request with an optional JSON body; resolves with the status and the whole answer. */
export function apiCall(socketPath: string, method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers = data === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) };
    const req = request({ socketPath, path, method, agent: false, timeout: timeoutMs, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(data);
  });
}
