// The request target, normalized once. Authorization sees exactly the path the router then
// dispatches; forms two parsers could read differently (encoded slashes, dot segments, double
// slashes, double encoding, odd version prefixes) are refused instead of guessed at.
import { invalid } from '../../core/plugin-api.js';

export interface RequestTarget {
  /** Percent-decoded once, without the /vX.Y prefix or a trailing slash: what the router matches. */
  path: string;
  /** The raw query string, without '?' ('' when none). */
  query: string;
  /** The API version the client put in the path ("1.41", leading zeros dropped), if any. */
  version: string | undefined;
}

// After one decoding only printable ASCII may remain, without '%' (double encoding), '\\' (a
// separator to some readers), '?' and '#' (they would end the path for a reader that re-parses
// it). A space and the like are data: names dockerd accepts ("test 01") come percent-encoded.
const SAFE_PATH = /^[^%\\?#\x00-\x1f\x7f-\uffff]*$/;
const ENCODED_SEPARATOR = /%(2f|5c|00)/i;
const VERSIONED = /^\/v(\d{1,4})\.(\d{1,4})(\/.*)?$/;

const refuse = (why: string, url: string) => invalid(`invalid request path ${JSON.stringify(url.length > 200 ? `${url.slice(0, 200)}...` : url)}: ${why}`);

export function parseTarget(url: string): RequestTarget {
  if (!url.startsWith('/')) throw refuse('must start with /', url);
  const q = url.indexOf('?');
  const raw = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q + 1);
  let path = raw;
  if (raw.includes('%')) {
    if (ENCODED_SEPARATOR.test(raw)) throw refuse('encoded slashes, backslashes or NUL are not allowed', url);
    try {
      path = decodeURIComponent(raw);
    } catch {
      throw refuse('bad percent-encoding', url);
    }
  }
  // A '%' left after decoding was double-encoded; controls, '#', '?', '\' and non-ASCII never name a route.
  if (!SAFE_PATH.test(path)) throw refuse('characters outside the URL path alphabet (or double encoding)', url);
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i];
    if (s === '' && path !== '/') throw refuse('empty path segment (//)', url);
    if (s === '.' || s === '..') throw refuse('dot segments are not allowed', url);
  }
  let version: string | undefined;
  if (/^\/v\d/.test(path)) {
    const m = VERSIONED.exec(path);
    if (!m || !m[3]) throw refuse('malformed API version prefix (expected /vMAJOR.MINOR/...)', url);
    version = `${Number(m[1])}.${Number(m[2])}`;
    path = m[3];
    if (/^\/v\d/.test(path)) throw refuse('more than one API version prefix', url);
  }
  return { path, query, version };
}

/** The method-override headers some frameworks honour: a request says what it is, once. */
export const METHOD_OVERRIDE_HEADERS = ['x-http-method-override', 'x-http-method', 'x-method-override'];

export function refuseMethodOverride(headers: Record<string, unknown>): void {
  for (const h of METHOD_OVERRIDE_HEADERS) {
    if (headers[h] !== undefined) throw invalid(`method override headers are not supported (${h})`);
  }
}
