// Starts Debian's docker-registry (CNCF distribution 2.8) on 127.0.0.1 with its own storage
// folder, optionally behind htpasswd (bcrypt) or token auth, and stops it by pid afterwards.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { waitFor } from './poll.js';

export interface RunningRegistry {
  port: number;
  /** 127.0.0.1:PORT */
  host: string;
  dir: string;
  proc: ChildProcess;
  logs: () => string;
  stop: () => Promise<void>;
}


/** A bcrypt htpasswd line (the registry accepts only bcrypt): htpasswd -B when installed, else libcrypt through python3. */
export function htpasswdLine(user: string, password: string): string {
  try {
    return execFileSync('htpasswd', ['-nbB', user, password], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    const hash = execFileSync('python3', ['-c', 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))', password], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    if (!hash.startsWith('$2')) throw new Error('cannot make a bcrypt hash: install apache2-utils (htpasswd)');
    return `${user}:${hash}`;
  }
}

export interface RegistryOptions {
  htpasswd?: { user: string; password: string };
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
  /** Serve HTTPS with this certificate; with clientCa, clients must present a certificate it signed. */
  tls?: { cert: string; key: string; clientCa?: string };
  /** An empty folder for its config and storage (removed by stop); a new temporary one when absent. */
  dir?: string;
  /** Called right after spawn, e.g. to kill the process when the caller is interrupted. */
  onSpawn?: (proc: ChildProcess) => void;
}

function ping(port: number, tls: boolean): Promise<number> {
  // An HTTPS registry answers a plain request with 400: enough to know it listens.
  if (tls) return new Promise((resolve) => { const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(200); }); s.on('error', () => resolve(0)); });
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/v2/', timeout: 2_000 }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<RunningRegistry> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'berth-registry-'));
  const port = await freePort();
  let auth = '';
  if (opts.htpasswd) {
    writeFileSync(join(dir, 'htpasswd'), `${htpasswdLine(opts.htpasswd.user, opts.htpasswd.password)}\n`);
    auth = `auth:\n  htpasswd:\n    realm: test-realm\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (opts.token) {
    const t = opts.token;
    auth = `auth:\n  token:\n    realm: ${t.realm}\n    service: ${t.service}\n    issuer: ${t.issuer}\n    rootcertbundle: ${t.rootCertBundle}\n`;
  }
  const config = join(dir, 'config.yml');
  writeFileSync(config, `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
${opts.tls ? `  tls:\n    certificate: ${opts.tls.cert}\n    key: ${opts.tls.key}\n${opts.tls.clientCa ? `    clientcas:\n      - ${opts.tls.clientCa}\n` : ''}` : ''}${auth}`);
  const proc = spawn('/usr/bin/docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  opts.onSpawn?.(proc);
  let logs = '';
  proc.stdout!.on('data', (d) => (logs += d));
  proc.stderr!.on('data', (d) => (logs += d));
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(t);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`docker-registry to answer on 127.0.0.1:${port}`, async () => [200, 401].includes(await ping(port, Boolean(opts.tls))), {
      maxTries: 100, intervalMs: 50,
      giveUp: () => (proc.exitCode !== null ? `it exited ${proc.exitCode}` : undefined),
      detail: () => `docker-registry output:\n${logs}`,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, host: `127.0.0.1:${port}`, dir, proc, logs: () => logs, stop };
}

export { freePort };
