// Manifests: the media types Berth reads (Docker schema2, OCI image, manifest lists and OCI
// indexes), platform selection in lists, and fetching one by tag or digest with its digest checked.
import { arch } from 'node:os';
import { invalid, notFound, systemError } from '../../core/plugin-api.js';
import { sha256 } from '../../lib/digest.js';
import { goArch } from '../image-store/index.js';
import { readBody } from './http-request.js';
import type { RegistryClient } from './registry-client.js';
import { responseError } from './registry-errors.js';

export const MT = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  schema1: 'application/vnd.docker.distribution.manifest.v1+json',
  schema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export const ACCEPT = [MT.dockerManifest, MT.dockerList, MT.ociManifest, MT.ociIndex, MT.schema1Signed, MT.schema1].join(', ');

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  platform?: { os?: string; architecture?: string; variant?: string };
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface Fetched {
  raw: Buffer;
  digest: string;
  mediaType: string;
  doc: any;
}

export interface Platform { os: string; architecture: string; variant?: string }

export function parsePlatform(text: string | undefined): Platform {
  const host: Platform = { os: 'linux', architecture: goArch(arch()) };
  if (!text) return host;
  const [os, architecture, variant] = text.toLowerCase().split('/');
  if (!os || (architecture === undefined && os !== 'linux')) throw invalid(`"${text}": unknown operating system or architecture: invalid argument`);
  return { os, architecture: architecture ?? host.architecture, ...(variant ? { variant } : {}) };
}

export const platformString = (p: Platform) => `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;

/** The manifest of a list that fits the platform, as containerd's matcher orders them. */
export function selectPlatform(list: { manifests?: Descriptor[] }, want: Platform): Descriptor | undefined {
  const candidates = (list.manifests ?? []).filter((m) => m.platform?.os === want.os && m.platform?.architecture === want.architecture);
  if (want.variant) return candidates.find((m) => m.platform?.variant === want.variant);
  // arm64 images usually say v8; amd64 ones none. Prefer an exact empty variant, then any.
  return candidates.find((m) => !m.platform?.variant) ?? candidates.find((m) => m.platform?.variant === 'v8') ?? candidates[0];
}

/** GET a manifest by tag or digest; a digest reference must match the bytes received. */
export async function fetchManifest(client: RegistryClient, repoPath: string, reference: string, scopes: string[], displayRef: string, signal?: AbortSignal): Promise<Fetched> {
  if (!reference.startsWith('sha256:')) {
    // As dockerd: HEAD the tag for its digest, then GET by digest (verified below).
    const head = await client.request('HEAD', `/v2/${repoPath}/manifests/${reference}`, { scopes, headers: { Accept: ACCEPT }, signal });
    head.resume();
    if (head.statusCode === 404) throw notFound(`manifest for ${displayRef} not found: manifest unknown: manifest unknown`);
    const digest = head.headers['docker-content-digest'];
    if (head.statusCode === 200 && typeof digest === 'string' && /^sha256:[a-f0-9]{64}$/.test(digest)) reference = digest;
  }
  const res = await client.request('GET', `/v2/${repoPath}/manifests/${reference}`, { scopes, headers: { Accept: ACCEPT }, signal });
  if (res.statusCode === 404) {
    const err = await responseError(res);
    throw notFound(`manifest for ${displayRef} not found: ${err.message}`);
  }
  if (res.statusCode !== 200) throw await responseError(res);
  const raw = await readBody(res, 4 << 20);
  const digest = sha256(raw);
  if (reference.startsWith('sha256:') && digest !== reference) {
    throw systemError(`manifest verification failed for digest ${reference}`);
  }
  let doc: any;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch {
    throw systemError(`invalid manifest for ${displayRef}: not JSON`);
  }
  const header = String(res.headers['content-type'] ?? '').split(';')[0].trim();
  const mediaType = doc.mediaType || (doc.manifests ? MT.ociIndex : doc.schemaVersion === 1 ? MT.schema1 : header && header !== 'application/json' ? header : MT.ociManifest);
  return { raw, digest, mediaType, doc };
}
