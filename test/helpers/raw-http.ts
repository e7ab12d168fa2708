// Raw HTTP over a unix socket: bytes exactly as written (smuggling, odd framing, odd targets),
// the answer read until the server closes (bounded by a timeout).
import { connect } from 'node:net';

export interface RawAnswer {
  /** Status of the first response (0 when none came). */
  status: number;
  /** Everything the server sent. */
  text: string;
}

export function rawRequest(socket: string, data: string | Buffer | (string | Buffer)[], timeoutMs = 10_000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const conn = connect(socket);
    let text = '';
    const done = () => {
      clearTimeout(timer);
      conn.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, text });
    };
    const timer = setTimeout(done, timeoutMs);
    conn.on('data', (c) => (text += c.toString('latin1')));
    conn.on('end', done);
    conn.on('error', done);
    conn.on('connect', () => { for (const part of Array.isArray(data) ? data : [data]) conn.write(part); });
  });
}

/** A request with a JSON body and Content-Length, as a plain client sends it. */
export function jsonRequest(method: string, target: string, body: string, headers: string[] = []): string {
  return [`${method} ${target} HTTP/1.1`, 'Host: berth', 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', ...headers, '', body].join('\r\n');
}

/** The same body sent with chunked transfer coding (no Content-Length), in two chunks. */
export function chunkedRequest(method: string, target: string, body: string, headers: string[] = ['Content-Type: application/json']): string {
  const half = Math.floor(body.length / 2);
  const chunk = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
  return [`${method} ${target} HTTP/1.1`, 'Host: berth', 'Transfer-Encoding: chunked', 'Connection: close', ...headers, '', ''].join('\r\n')
    + chunk(body.slice(0, half)) + chunk(body.slice(half)) + '0\r\n\r\n';
}
