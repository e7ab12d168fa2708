// Docker image references: parsing, normalisation (busybox → docker.io/library/busybox:latest)
// and the familiar form the CLI shows (busybox:latest).
import { invalid } from '../core/plugin-api.js';

export interface Reference {
  /** Fully qualified repository: docker.io/library/busybox. */
  name: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
export const DEFAULT_DOMAIN = 'docker.io';

/** As the distribution library: the first component is a registry when it looks like a host. */
function splitDomain(name: string): [string, string] {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const isDomain = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost' || first.toLowerCase() !== first);
  const domain = !isDomain || first === 'index.docker.io' ? DEFAULT_DOMAIN : first;
  const path = isDomain ? name.slice(slash + 1) : name;
  return [domain, domain === DEFAULT_DOMAIN && !path.includes('/') ? `library/${path}` : path];
}

/** Parses a reference as the CLI or a client typed it; a missing tag is not filled in here. */
export function parseReference(text: string): Reference {
  if (!text) throw invalid('invalid reference format');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(`invalid reference format: invalid digest "${digest}"`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(`invalid reference format: invalid tag "${tag}"`);
  }
  if (rest.length > 255) throw invalid('invalid reference format: repository name must not be more than 255 characters');
  const [domain, path] = splitDomain(rest);
  if (!DOMAIN.test(domain)) throw invalid(`invalid reference format: invalid domain "${domain}"`);
  for (const c of path.split('/')) {
    if (!COMPONENT.test(c)) {
      throw invalid(c.toLowerCase() !== c ? 'invalid reference format: repository name must be lowercase' : 'invalid reference format');
    }
  }
  return { name: `${domain}/${path}`, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** A reference with the default tag when it has neither tag nor digest. */
export function normalize(text: string, defaultTag = 'latest'): Reference {
  const r = parseReference(text);
  return r.tag || r.digest ? r : { ...r, tag: defaultTag };
}

/** docker.io/library/busybox → busybox; docker.io/me/app → me/app. */
export function familiarName(name: string): string {
  if (name.startsWith(`${DEFAULT_DOMAIN}/library/`) && name.split('/').length === 3) return name.slice(`${DEFAULT_DOMAIN}/library/`.length);
  if (name.startsWith(`${DEFAULT_DOMAIN}/`)) return name.slice(DEFAULT_DOMAIN.length + 1);
  return name;
}

/** The string stored and shown for a tagged or digested reference: busybox:latest, app@sha256:… */
export function familiarString(r: Reference): string {
  return `${familiarName(r.name)}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** The canonical string stored in repositories.json: docker.io/library/busybox:latest. */
export function canonicalString(r: Reference): string {
  return `${r.name}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}
