// Bearer tokens from a registry's token service, cached per (realm, service, scope, user) until
// they expire, so a pull asks for its token once rather than once per blob.
import type { AuthConfig } from '../../lib/registry-auth.js';
import { readBody, send, type TlsFiles } from './http-request.js';
import { describeErrors } from './registry-errors.js';

interface Cached { token: string; until: number }

export class TokenCache {
  private readonly tokens = new Map<string, Cached>();
  /** Refresh tokens the token service handed out (docker login with identity tokens). */
  readonly refreshTokens = new Map<string, string>();

  async get(params: Record<string, string>, scopes: string[], creds: AuthConfig | undefined, tls: TlsFiles, signal?: AbortSignal): Promise<string> {
    const realm = params.realm;
    if (!realm) throw new Error('bearer challenge without a realm');
    const key = JSON.stringify([realm, params.service ?? '', [...scopes].sort(), creds?.username ?? '', creds?.identitytoken ?? '']);
    const hit = this.tokens.get(key);
    if (hit && hit.until > Date.now()) return hit.token;
    const url = new URL(realm);
    let res;
    if (creds?.identitytoken) {
      // OAuth2 refresh-token grant, as dockerd does with an identity token.
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identitytoken, client_id: 'docker', service: params.service ?? '' });
      if (scopes.length) form.set('scope', scopes.join(' '));
      res = await send({ method: 'POST', url, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form.toString()), tls, signal });
    } else {
      if (params.service) url.searchParams.set('service', params.service);
      for (const s of scopes) url.searchParams.append('scope', s);
      const headers: Record<string, string> = {};
      if (creds?.username && creds.password) {
        url.searchParams.set('account', creds.username);
        headers.Authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      }
      res = await send({ method: 'GET', url, headers, tls, signal });
    }
    const body = await readBody(res, 1 << 20);
    if (res.statusCode !== 200) throw new Error(describeErrors(res.statusCode ?? 0, body));
    let parsed: { token?: string; access_token?: string; expires_in?: number; issued_at?: string; refresh_token?: string };
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new Error(`token service ${realm} answered with invalid JSON`);
    }
    const token = parsed.token || parsed.access_token;
    if (!token) throw new Error(`token service ${realm} answered without a token`);
    if (parsed.refresh_token && creds?.username) this.refreshTokens.set(`${realm}|${creds.username}`, parsed.refresh_token);
    const issued = parsed.issued_at ? Date.parse(parsed.issued_at) || Date.now() : Date.now();
    // Refresh a little early; tokens without a lifetime last 60 s (the distribution spec's minimum).
    const until = issued + Math.max(60, parsed.expires_in ?? 60) * 1000 - 5_000;
    this.tokens.set(key, { token, until });
    return token;
  }
}
