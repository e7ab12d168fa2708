// A registry token service for tests, as the distribution spec describes it: GET /token with
// Basic credentials and scopes answers a JWT (RS256, its certificate in x5c) that a registry
// configured with `auth: token` and this certificate as rootcertbundle accepts.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TokenServer {
  port: number;
  realm: string;
  service: string;
  issuer: string;
  /** The signing certificate (the registry's rootcertbundle). */
  certFile: string;
  /** Every request: its scopes and whether it carried credentials. */
  requests: { scopes: string[]; user?: string; headers: IncomingHttpHeaders }[];
  stop: () => Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export async function startTokenServer(user: string, password: string): Promise<TokenServer> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-token-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '2', '-subj', '/CN=berth test token issuer'], { cwd: dir, stdio: 'ignore', timeout: 30_000 });
  const key = createPrivateKey(readFileSync(join(dir, 'key.pem')));
  const der = new X509Certificate(readFileSync(join(dir, 'cert.pem'))).raw;
  const service = 'berth-test-registry';
  const issuer = 'berth-test-issuer';
  const requests: TokenServer['requests'] = [];
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let scopes = url.searchParams.getAll('scope');
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    let [u, p] = basic ? Buffer.from(basic, 'base64').toString().split(/:(.*)/s) : [];
    let refreshed = false;
    if (req.method === 'POST') {
      // OAuth2 refresh-token grant: the identity token is `refresh-<user>`.
      let body = '';
      for await (const c of req) body += c;
      const form = new URLSearchParams(body);
      scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
      refreshed = form.get('grant_type') === 'refresh_token' && form.get('refresh_token') === `refresh-${user}`;
      if (refreshed) [u, p] = [user, password];
    }
    requests.push({ scopes, ...(u ? { user: u } : {}), headers: req.headers });
    if (url.pathname !== '/token') { res.writeHead(404).end(); return; }
    if (u !== user || p !== password) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ details: 'incorrect username or password' }));
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const access = scopes.map((s) => {
      const first = s.indexOf(':');
      const last = s.lastIndexOf(':');
      return { type: s.slice(0, first), name: s.slice(first + 1, last), actions: s.slice(last + 1).split(',') };
    });
    const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [der.toString('base64')] }));
    const claims = b64url(JSON.stringify({ iss: issuer, sub: user, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }));
    const token = `${header}.${claims}.${b64url(sign('sha256', Buffer.from(`${header}.${claims}`), key))}`;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port, realm: `http://127.0.0.1:${port}/token`, service, issuer, certFile: join(dir, 'cert.pem'), requests,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
