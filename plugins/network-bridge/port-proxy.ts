// The userland proxy (dockerd's docker-proxy): it holds each published host port — so a taken port
// is found before any rule exists — and carries connections that iptables cannot DNAT, those to
// 127.0.0.1 from the host itself. The daemon binds and serves the ports itself at once, then hands
// the listening sockets to the endpoint's proxy process (proxy-processes.ts), which serves them on
// the same sockets (proxy-main.ts).
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface ProxyTarget { proto: 'tcp' | 'udp'; hostIp: string; hostPort: number; containerIp: string; containerPort: number }

const UDP_IDLE_MS = 90_000;

interface Open {
  sock: Server | UdpSocket;
  /** The TCP connections it carries; they outlive a release (the listener handed on). */
  conns: Set<Socket>;
  released: boolean;
}

export class PortProxies {
  private readonly open = new Map<string, Open>();

  private static key(t: { proto: string; hostIp: string; hostPort: number }): string {
    return `${t.proto}:${t.hostIp}:${t.hostPort}`;
  }

  /** Binds the host port (0: a free one from the ephemeral range), or serves the listening socket
   * `fd` (one handed over: its address is the target's); returns the port taken. */
  async start(t: ProxyTarget, fd?: number): Promise<number> {
    const port = t.proto === 'tcp' ? await this.tcp(t, fd) : await this.udp(t, fd);
    return port;
  }

  private tcp(t: ProxyTarget, fd?: number): Promise<number> {
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
      const listening = () => {
        const port = (server.address() as { port: number }).port;
        server.removeAllListeners('error');
        server.on('error', () => {});
        this.open.set(PortProxies.key({ ...t, hostPort: port }), { sock: server, conns, released: false });
        resolve(port);
      };
      if (fd !== undefined) server.listen({ fd }, listening);
      else server.listen({ port: t.hostPort, host: t.hostIp, exclusive: true }, listening);
    });
  }

  private udp(t: ProxyTarget, fd?: number): Promise<number> {
    const sock = createSocket('udp4');
    const peers = new Map<string, { up: UdpSocket; timer: NodeJS.Timeout }>();
    sock.on('message', (msg, from) => {
      const id = `${from.address}:${from.port}`;
      let peer = peers.get(id);
      if (!peer) {
        const up = createSocket('udp4');
        up.on('message', (reply) => { try { sock.send(reply, from.port, from.address); } catch { /* closed meanwhile */ } });
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
      const bound = () => {
        sock.removeAllListeners('error');
        sock.on('error', () => {});
        const port = sock.address().port;
        this.open.set(PortProxies.key({ ...t, hostPort: port }), { sock, conns: new Set(), released: false });
        resolve(port);
      };
      if (fd !== undefined) sock.bind({ fd }, bound);
      else sock.bind({ port: t.hostPort, address: t.hostIp, exclusive: true }, bound);
    });
  }

  /** The listening socket's descriptor, to hand to another process. */
  fd(t: { proto: string; hostIp: string; hostPort: number }): number {
    const o = this.open.get(PortProxies.key(t));
    if (!o || o.released) throw new Error(`no open ${PortProxies.key(t)}`);
    const fd = 'listen' in o.sock ? socketFd(o.sock) : udpFd(o.sock);
    if (typeof fd !== 'number' || fd < 0) throw new Error(`cannot find the descriptor of ${PortProxies.key(t)}`);
    return fd;
  }

  /** Closes this process's copy of the listening socket (another process serves it now); the
   * connections it carries run on until they end or stop(). */
  async release(t: { proto: string; hostIp: string; hostPort: number }): Promise<void> {
    const o = this.open.get(PortProxies.key(t));
    if (!o || o.released) return;
    o.released = true;
    await new Promise<void>((resolve) => o.sock.close(() => resolve()));
  }

  /** Closes the port and every connection it carries. */
  async stop(t: { proto: string; hostIp: string; hostPort: number }): Promise<void> {
    const k = PortProxies.key(t);
    const o = this.open.get(k);
    this.open.delete(k);
    if (!o) return;
    for (const c of o.conns) c.destroy();
    if (!o.released) await new Promise<void>((resolve) => o.sock.close(() => resolve()));
  }

  async stopAll(): Promise<void> {
    for (const k of [...this.open.keys()]) {
      const [proto, hostIp, port] = k.split(':');
      await this.stop({ proto, hostIp, hostPort: Number(port) });
    }
  }
}

// Node has no public accessor for a socket's descriptor; these are its handles' own (Unix).
function socketFd(s: Server): number | undefined {
  return (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
}

function udpFd(s: UdpSocket): number | undefined {
  const state = Object.getOwnPropertySymbols(s).find((sym) => sym.description === 'state symbol');
  return state ? (s as unknown as Record<symbol, { handle?: { fd?: number } }>)[state]?.handle?.fd : undefined;
}

function bindError(t: ProxyTarget, err: Error): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new Error(`Bind for ${t.hostIp}:${t.hostPort} failed: port is already allocated`);
  return new Error(`listen ${t.proto} ${t.hostIp}:${t.hostPort}: ${err.message}`);
}
