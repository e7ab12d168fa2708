// docker login (POST /auth): checks the credentials against the registry itself, as dockerd's
// loginV2 does: GET /v2/ with them (a bearer registry first hands out a token for no scope).
import { systemError } from '../../core/plugin-api.js';
import { parseReference } from '../../lib/image-reference.js';
import type { AuthConfig } from '../../lib/registry-auth.js';
import { DOCKER_HUB } from './endpoints.js';
import { statusText } from './registry-errors.js';
import type { Registries } from './registries.js';

/** serveraddress as the CLI sends it (host:port, a URL, or Docker Hub's index URL) → registry host. */
export function loginHost(serveraddress: string | undefined): string {
  const s = (serveraddress ?? '').trim();
  if (!s || /^(https?:\/\/)?index\.docker\.io(\/|$)/.test(s) || /^(https?:\/\/)?registry-1\.docker\.io/.test(s) || s === DOCKER_HUB) return DOCKER_HUB;
  const host = s.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  parseReference(`${host}/x`); // refuses what is not a registry host
  return host;
}

export async function login(reg: Registries, auth: AuthConfig, signal?: AbortSignal): Promise<{ IdentityToken: string; Status: string }> {
  const host = loginHost(auth.serveraddress);
  const [endpoint] = reg.endpoints(host, false);
  const client = reg.client(endpoint, auth);
  const res = await client.request('GET', '/v2/', { signal });
  res.resume();
  if (res.statusCode !== 200) {
    throw systemError(`login attempt to ${client.url('/v2/')} failed with status: ${res.statusCode} ${statusText(res.statusCode ?? 0)}`);
  }
  return { IdentityToken: '', Status: 'Login Succeeded' };
}
