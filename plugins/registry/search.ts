// docker search: the v1 search endpoint of the registry named in the term (Docker Hub's index
// otherwise). Registries without it (the CNCF distribution registry) get dockerd's error.
import { systemError } from '../../core/plugin-api.js';
import type { AuthConfig } from '../../lib/registry-auth.js';
import { DOCKER_HUB, DOCKER_HUB_INDEX } from './endpoints.js';
import { readBody } from './http-request.js';
import type { Registries } from './registries.js';

export interface SearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  is_automated: boolean;
}

/** "127.0.0.1:5000/busy" → [registry, "busy"]; a plain term searches Docker Hub. */
export function splitTerm(term: string): [string, string] {
  const slash = term.indexOf('/');
  const first = slash < 0 ? '' : term.slice(0, slash);
  if (first && (first.includes('.') || first.includes(':') || first === 'localhost')) return [first, term.slice(slash + 1)];
  return [DOCKER_HUB, term];
}

export async function search(reg: Registries, term: string, limit: number, filters: Record<string, string[]>, auth: AuthConfig | undefined, signal?: AbortSignal): Promise<SearchResult[]> {
  const [host, q] = splitTerm(term);
  const endpoint = host === DOCKER_HUB
    ? { host, bases: [new URL(DOCKER_HUB_INDEX)], tls: { verify: true }, mirror: false }
    : reg.endpoints(host, false)[0];
  const client = reg.client(endpoint, auth);
  const path = `/v1/search?q=${encodeURIComponent(q)}&n=${limit}`;
  const res = await client.request('GET', path, { signal });
  const body = await readBody(res);
  if (res.statusCode !== 200) throw systemError(`Unexpected status code ${res.statusCode}`);
  let results: SearchResult[];
  try {
    results = (JSON.parse(body.toString('utf8')).results ?? []) as SearchResult[];
  } catch {
    throw systemError(`invalid search response from ${client.url(path)}`);
  }
  const stars = Number(filters.stars?.[0] ?? 0);
  const flag = (k: string) => (filters[k]?.[0] === undefined ? undefined : filters[k][0] === 'true' || filters[k][0] === '1');
  const official = flag('is-official');
  const automated = flag('is-automated');
  return results
    .filter((r) => (r.star_count ?? 0) >= stars && (official === undefined || Boolean(r.is_official) === official) && (automated === undefined || Boolean(r.is_automated) === automated))
    .slice(0, limit);
}
