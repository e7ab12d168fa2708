// The userland proxy (dockerd's docker-proxy, here inside the daemon): it holds each published
// host port — so a taken port is found before any rule exists — and carries connections that
// iptables cannot DNAT, those to 127.0.0.1 from the host itself.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface ProxyTarget { proto: 'tcp' | 'udp'; hostIp: string; hostPort: number; containerIp: string; containerPort: number }

const UDP_IDLE_MS = 90_000;

export class PortProxies {
  private readonly open = new Map<string, Server | UdpSocket>();
  private readonly conns = new WeakMap<Server, Set<Socket>>();

  private static key(t: { proto: string; hostIp: string; hostPort: number }): string {
    return `${t.proto}:${t.hostIp}:${t.hostPort}`;
  }

  /** Binds the host port (0: a free one from the ephemeral range) and returns the port taken. */
  async start(t: ProxyTarget): Promise<number> {
    const port = t.proto === 'tcp' ? await this.tcp(t) : await this.udp(t);
    return port;
  }

  private tcp(t: ProxyTarget): Promise<number> {
    const conns = new Set<Socket>();
    const server = createServer((client) => {
      conns.add(client);
      client.on('close', () => conns.delete(client));
      const upstream = connect(t.containerPort, t.containerIp);
      client.pipe(upstream).pipe(client);
      const close = () => { client.destroy(); upstream.destroy(); };
      client.on('error', close);
      upstream.on('error', close);
    });
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(bindError(t, err)));
      server.listen({ port: t.hostPort, host: t.hostIp, exclusive: true }, () => {
        const port = (server.address() as { port: number }).port;
        server.removeAllListeners('error');
        server.on('error', () => {});
        this.open.set(PortProxies.key({ ...t, hostPort: port }), server);
        this.conns.set(server, conns);
        resolve(port);
      });
    });
  }

  private udp(t: ProxyTarget): Promise<number> {
    const sock = createSocket('udp4');
    const peers = new Map<string, { up: UdpSocket; timer: NodeJS.Timeout }>();
    sock.on('message', (msg, from) => {
      const id = `${from.address}:${from.port}`;
      let peer = peers.get(id);
      if (!peer) {
        const up = createSocket('udp4');
        up.on('message', (reply) => sock.send(reply, from.port, from.address));
        up.on('error', () => {});
        peer = { up, timer: setTimeout(() => {}, 0) };
        peers.set(id, peer);
      }
      clearTimeout(peer.timer);
      const p = peer;
      p.timer = setTimeout(() => { p.up.close(); peers.delete(id); }, UDP_IDLE_MS).unref();
      p.up.send(msg, t.containerPort, t.containerIp);
    });
    sock.on('close', () => { for (const p of peers.values()) { clearTimeout(p.timer); p.up.close(); } });
    return new Promise((resolve, reject) => {
      sock.once('error', (err) => reject(bindError(t, err)));
      sock.bind({ port: t.hostPort, address: t.hostIp, exclusive: true }, () => {
        sock.removeAllListeners('error');
        sock.on('error', () => {});
        const port = sock.address().port;
        this.open.set(PortProxies.key({ ...t, hostPort: port }), sock);
        resolve(port);
      });
    });
  }

  async stop(t: { proto: string; hostIp: string; hostPort: number }): Promise<void> {
    const k = PortProxies.key(t);
    const s = this.open.get(k);
    this.open.delete(k);
    if (!s) return;
    await new Promise<void>((resolve) => {
      if ('listen' in s) {
        s.close(() => resolve());
        for (const c of this.conns.get(s) ?? []) c.destroy();
      } else s.close(() => resolve());
    });
  }

  async stopAll(): Promise<void> {
    for (const k of [...this.open.keys()]) {
      const [proto, hostIp, port] = k.split(':');
      await this.stop({ proto, hostIp, hostPort: Number(port) });
    }
  }
}

function bindError(t: ProxyTarget, err: Error): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new Error(`Bind for ${t.hostIp}:${t.hostPort} failed: port is already allocated`);
  return new Error(`listen ${t.proto} ${t.hostIp}:${t.hostPort}: ${err.message}`);
}
