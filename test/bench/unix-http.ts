// Minimal HTTP over a unix socket: the only traffic the benchmark makes.
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
