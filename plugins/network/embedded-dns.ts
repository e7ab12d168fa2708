// The embedded DNS resolver (dockerd's 127.0.0.11): in each running container on a user-defined
// network, a UDP socket bound inside its namespace (by a short-lived helper, handed over IPC)
// and answered by the daemon: names and aliases of the container's peers from live state, other
// names forwarded to the container's upstream resolvers from the daemon's own namespace.
import { spawn } from 'node:child_process';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { answer, parseQuestion, RCODE, TYPE_A, TYPE_AAAA } from './dns-message.js';

const HELPER = fileURLToPath(new URL('./dns-socket-helper.js', import.meta.url));
const FORWARD_TIMEOUT_MS = 3000;

export interface DnsView {
  /** Addresses of `name` as the container sees it; undefined when not a name of its networks. */
  lookup(containerId: string, name: string): string[] | undefined;
  /** The resolvers names outside its networks go to. */
  upstream(containerId: string): string[];
}

export class EmbeddedDns {
  private readonly sockets = new Map<string, Socket>();

  constructor(private readonly view: DnsView, private readonly log: Logger) {}

  has(containerId: string): boolean {
    return this.sockets.has(containerId);
  }

  /** Binds 127.0.0.11:53 in the namespace at `netns` and starts answering there. */
  open(containerId: string, netns: string): Promise<void> {
    this.close(containerId);
    return new Promise((resolve, reject) => {
      const child = spawn('nsenter', [`--net=${netns}`, process.execPath, HELPER], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      let err = '';
      let settled = false;
      child.stderr!.on('data', (c) => (err += c));
      child.on('message', (_m, handle) => {
        const sock = handle as Socket;
        sock.on('message', (msg, from) => void this.answer(containerId, sock, msg, from));
        sock.on('error', (e) => this.log.debug({ err: e, container: containerId }, 'embedded DNS socket error'));
        this.sockets.set(containerId, sock);
        settled = true;
        resolve();
      });
      child.on('error', reject);
      child.on('exit', (code) => { if (!settled) reject(new Error(`embedded DNS: ${err.trim() || `helper exited ${code}`}`)); });
    });
  }

  close(containerId: string): void {
    const s = this.sockets.get(containerId);
    this.sockets.delete(containerId);
    s?.close();
  }

  closeAll(): void {
    for (const id of [...this.sockets.keys()]) this.close(id);
  }

  private async answer(containerId: string, sock: Socket, msg: Buffer, from: RemoteInfo): Promise<void> {
    const q = parseQuestion(msg);
    if (!q) return;
    const local = this.view.lookup(containerId, q.name);
    let reply: Buffer;
    // A name of its networks: A or AAAA records of that family (none for other types, NOERROR).
    const family = (ip: string) => (ip.includes(':') ? TYPE_AAAA : TYPE_A);
    if (local) reply = answer(msg, q, RCODE.ok, local.filter((ip) => family(ip) === q.qtype));
    else reply = (await this.forward(msg, this.view.upstream(containerId)).catch(() => null)) ?? answer(msg, q, RCODE.serverFailure);
    sock.send(reply, from.port, from.address);
  }

  /** The query to the first upstream that answers, from the daemon's namespace. */
  private async forward(msg: Buffer, servers: string[]): Promise<Buffer | null> {
    for (const server of servers) {
      const reply = await new Promise<Buffer | null>((resolve) => {
        const s = createSocket(server.includes(':') ? 'udp6' : 'udp4');
        const done = (r: Buffer | null) => { clearTimeout(timer); s.close(); resolve(r); };
        const timer = setTimeout(() => done(null), FORWARD_TIMEOUT_MS);
        s.on('message', (r) => done(r));
        s.on('error', () => done(null));
        s.send(msg, 53, server);
      });
      if (reply) return reply;
    }
    return null;
  }
}
