// Readiness for systemd (Type=notify): READY=1 / STOPPING=1 on the datagram socket in NOTIFY_SOCKET.
import { createRequire } from 'node:module';
import type { Logger } from 'pino';

interface DgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, cb?: (err?: Error) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  close(): void;
}

export async function sdNotify(state: string, log: Logger, socketPath = process.env.NOTIFY_SOCKET): Promise<void> {
  if (!socketPath) return;
  // Loaded only when asked for: Node has no unix datagram sockets, unix-dgram is a small addon.
  const { createSocket } = createRequire(import.meta.url)('unix-dgram') as {
    createSocket: (type: 'unix_dgram') => DgramSocket;
  };
  const path = socketPath.startsWith('@') ? `\0${socketPath.slice(1)}` : socketPath;
  const sock = createSocket('unix_dgram');
  const msg = Buffer.from(state);
  await new Promise<void>((resolve) => {
    sock.on('error', (err) => { log.warn({ err, socket: socketPath }, 'cannot notify systemd'); resolve(); });
    sock.send(msg, 0, msg.length, path, (err) => {
      if (err) log.warn({ err, socket: socketPath }, 'cannot notify systemd');
      resolve();
    });
  });
  sock.close();
}
