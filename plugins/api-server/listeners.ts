// Listeners from -H: unix sockets (mode 0660, group from -G) and TCP, with TLS and client-cert
// verification. Plain TCP on a non-loopback address is refused unless the operator insists.
import { readFileSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { configError } from '../../core/plugin-api.js';
import { ConnectionGuard, HEADER_TIMEOUT_MS, serverOptions } from './http-limits.js';

// node:https (and tls under it) loads only for a TLS listener: it is not on the start-up path.
const require = createRequire(import.meta.url);
const https = () => require('node:https') as typeof import('node:https');

export interface ListenerConfig {
  hosts: string[];
  group?: string;
  tls: boolean;
  tlsverify: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
  insecureTcp: boolean;
}

export interface Listener {
  address: string;
  server: Server;
  /** The socket file to remove at shutdown (unix listeners only). */
  socketPath?: string;
  guard?: ConnectionGuard;
}

export type ParsedHost = { proto: 'unix'; path: string } | { proto: 'tcp'; host: string; port: number };

export function parseHost(addr: string): ParsedHost {
  if (addr.startsWith('unix://')) {
    const path = addr.slice('unix://'.length);
    if (!path.startsWith('/')) throw configError(`invalid -H address ${addr}: the socket path must be absolute`);
    return { proto: 'unix', path };
  }
  if (addr.startsWith('tcp://')) {
    const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]*):(\d+)\/?$/.exec(addr);
    if (!m) throw configError(`invalid -H address ${addr}: expected tcp://HOST:PORT`);
    const port = Number(m[2]);
    if (port < 1 || port > 65535) throw configError(`invalid -H address ${addr}: port out of range`);
    return { proto: 'tcp', host: m[1].replace(/^\[|\]$/g, '') || '0.0.0.0', port };
  }
  throw configError(`invalid -H address ${addr}: only unix:// and tcp:// listeners are supported`);
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

async function groupId(name: string): Promise<number | undefined> {
  if (/^\d+$/.test(name)) return Number(name);
  const lines = (await readFile('/etc/group', 'utf8').catch(() => '')).split('\n');
  const line = lines.find((l) => l.split(':')[0] === name);
  return line ? Number(line.split(':')[2]) : undefined;
}

function tlsOptions(cfg: ListenerConfig) {
  const certDir = process.env.DOCKER_CERT_PATH ?? join(homedir(), '.docker');
  const read = (file: string | undefined, fallback: string, what: string) => {
    const path = file ?? join(certDir, fallback);
    try {
      return readFileSync(path);
    } catch (err) {
      throw configError(`cannot read TLS ${what} ${path}: ${(err as Error).message}`);
    }
  };
  return {
    key: read(cfg.tlskey, 'key.pem', 'key'),
    cert: read(cfg.tlscert, 'cert.pem', 'certificate'),
    ...(cfg.tlsverify ? { ca: read(cfg.tlscacert, 'ca.pem', 'CA certificate'), requestCert: true, rejectUnauthorized: true } : {}),
    minVersion: 'TLSv1.2' as const,
    // Connections count against the slow-client budget once the handshake is done; until then, this.
    handshakeTimeout: HEADER_TIMEOUT_MS,
  };
}

function listen(server: Server, args: unknown[]): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(...(args as []), () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export async function openListeners(cfg: ListenerConfig, app: RequestListener, log: Logger, onUpgrade?: UpgradeListener): Promise<Listener[]> {
  const opened: Listener[] = [];
  const guard = new ConnectionGuard(log);
  const parsed = cfg.hosts.map((h) => ({ address: h, host: parseHost(h) }));
  for (const { address, host } of parsed) {
    if (host.proto === 'tcp' && !isLoopback(host.host) && !cfg.tlsverify && !cfg.insecureTcp) {
      throw configError(
        `refusing to listen on ${address} without --tlsverify: anyone who can reach it gets root on this host; ` +
          'use --tlsverify with --tlscacert/--tlscert/--tlskey, or pass --insecure-tcp to insist',
      );
    }
  }
  try {
    for (const { address, host } of parsed) {
      if (host.proto === 'unix') {
        await mkdir(dirname(host.path), { recursive: true });
        await rm(host.path, { force: true });
        const server = createHttpServer(serverOptions, app);
        if (onUpgrade) server.on('upgrade', onUpgrade);
        // The umask makes the socket 0660 from its first moment: no window where others can connect.
        const old = process.umask(0o117);
        try {
          await listen(server, [host.path]);
        } finally {
          process.umask(old);
        }
        guard.watch(server, false);
        opened.push({ address, server, socketPath: host.path, guard });
        await chmod(host.path, 0o660);
        const group = cfg.group ?? 'docker';
        const gid = await groupId(group);
        if (gid !== undefined) await chown(host.path, 0, gid);
        else if (cfg.group) throw configError(`group ${cfg.group} for the API socket does not exist`);
        else log.warn({ group }, 'could not change group of the API socket: the group does not exist');
      } else {
        const secure = cfg.tls || cfg.tlsverify;
        const server = secure ? https().createServer({ ...serverOptions, ...tlsOptions(cfg) }, app) : createHttpServer(serverOptions, app);
        if (onUpgrade) server.on('upgrade', onUpgrade);
        if (!secure) log.warn({ address }, 'API listening on TCP without TLS: anyone who can reach it gets root on this host');
        await listen(server, [host.port, host.host]);
        guard.watch(server, secure);
        opened.push({ address, server, guard });
      }
      log.info({ address }, 'API listen');
    }
  } catch (err) {
    await closeListeners(opened);
    throw err;
  }
  return opened;
}

export async function closeListeners(listeners: Listener[]): Promise<void> {
  await Promise.all(listeners.map(async (l) => {
    await new Promise<void>((resolve) => {
      l.server.close(() => resolve());
      l.server.closeAllConnections();
    });
    l.guard?.close();
    if (l.socketPath) await rm(l.socketPath, { force: true });
  }));
}
