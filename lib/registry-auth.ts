// Registry credentials as the API carries them: the X-Registry-Auth header (base64url JSON) and
// the POST /auth body. A malformed header counts as no credentials, as dockerd does for pulls.

export interface AuthConfig {
  username?: string;
  password?: string;
  /** base64("user:password"), as config.json stores it. */
  auth?: string;
  serveraddress?: string;
  /** An OAuth refresh token from an earlier login. */
  identitytoken?: string;
  /** A bearer token to send as is. */
  registrytoken?: string;
}

function fromJson(v: unknown): AuthConfig | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const s = (k: string) => (typeof o[k] === 'string' && o[k] ? (o[k] as string) : undefined);
  const a: AuthConfig = {
    username: s('username') ?? s('Username'), password: s('password') ?? s('Password'), auth: s('auth'),
    serveraddress: s('serveraddress') ?? s('ServerAddress'), identitytoken: s('identitytoken') ?? s('IdentityToken'),
    registrytoken: s('registrytoken') ?? s('RegistryToken'),
  };
  if (!a.username && a.auth) {
    const plain = Buffer.from(a.auth, 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon > 0) { a.username = plain.slice(0, colon); a.password = plain.slice(colon + 1); }
  }
  for (const k of Object.keys(a) as (keyof AuthConfig)[]) if (a[k] === undefined) delete a[k];
  return a;
}

/** X-Registry-Auth: base64url (or standard base64) of a JSON AuthConfig. */
export function decodeAuthHeader(header: string | string[] | undefined): AuthConfig | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return undefined;
  try {
    return fromJson(JSON.parse(Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')));
  } catch {
    return undefined;
  }
}

export const authFromBody = fromJson;

export const hasCredentials = (a: AuthConfig | undefined): boolean => Boolean(a && ((a.username && a.password) || a.identitytoken || a.registrytoken));
