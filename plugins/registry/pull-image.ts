// docker pull: resolve the manifest (a list picks the platform), fetch the config, download the
// missing layers concurrently (each verified against its digest while it arrives) and unpack them
// bottom up through the layer store (the safe extractor) as they download; the image and its
// references are recorded only once everything is in. A failure releases what it registered.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { invalid, notFound, systemError } from '../../core/plugin-api.js';
import type { Emit, Images } from '../image-store/index.js';
import type { ChainItem } from '../image-store/index.js';
import { chainIds, hexOf, sha256 } from '../../lib/digest.js';
import { familiarName, familiarString, parseReference, type Reference } from '../../lib/image-reference.js';
import type { AuthConfig } from '../../lib/registry-auth.js';
import { downloadBlob, verificationError } from './blob-download.js';
import { BlobSpool, RewoundError } from './blob-spool.js';
import { readBody } from './http-request.js';
import { fetchManifest, MT, parsePlatform, platformString, selectPlatform, type Descriptor, type Fetched, type ImageManifest, type Platform } from './manifest.js';
import { progressReporter, status, type Out } from './progress.js';
import type { RegistryClient } from './registry-client.js';
import { responseError } from './registry-errors.js';
import { splitName, type Registries } from './registries.js';

export interface PullPayload {
  fromImage: string;
  tag?: string;
  platform?: string;
  auth?: AuthConfig;
}

const SCHEMA1 = (ref: string) => `[DEPRECATION NOTICE] Docker Image Format v1 and Docker Image manifest version 2, schema 1 support is disabled by default and will be removed in an upcoming release. Suggest the author of ${ref} to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2. More information at https://docs.docker.com/go/deprecated-image-specs/`;

/** fromImage plus the separate tag parameter (which may also be a digest), as dockerd combines them. */
export function pullReference(fromImage: string, tag?: string): Reference {
  const ref = parseReference(fromImage);
  if (!tag) return ref;
  if (ref.tag || ref.digest) throw invalid(`invalid reference format: tag given twice in "${fromImage}" and "${tag}"`);
  return /^sha256:/.test(tag) ? parseReference(`${fromImage}@${tag}`) : parseReference(`${fromImage}:${tag}`);
}

interface Resolved {
  ref: Reference;
  manifest: Fetched;
  image: ImageManifest;
}

export class Puller {
  private client!: RegistryClient;
  private readonly host: string;
  private readonly path: string;
  private readonly scopes: string[];
  private readonly platform: Platform;

  constructor(private readonly reg: Registries, private readonly images: Images, private readonly p: PullPayload, private readonly ref: Reference) {
    [this.host, this.path] = splitName(ref.name);
    this.scopes = [`repository:${this.path}:pull`];
    this.platform = parsePlatform(p.platform);
  }

  /**
   * Everything that can fail with a plain HTTP error (unknown manifest, no credentials) happens
   * here, before the progress stream starts.
   */
  async resolve(signal?: AbortSignal): Promise<Resolved[]> {
    let lastErr: unknown;
    for (const ep of this.reg.endpoints(this.host, true)) {
      this.client = this.reg.client(ep, this.p.auth);
      try {
        const refs = this.ref.tag || this.ref.digest ? [this.ref] : (await this.tags(signal)).map((t) => ({ name: this.ref.name, tag: t }));
        const out: Resolved[] = [];
        for (const r of refs) out.push(await this.resolveOne(r, signal));
        return out;
      } catch (err) {
        lastErr = err;
        if (!ep.mirror) throw err;
        this.reg.log.info({ mirror: String(ep.bases[0]), err: (err as Error).message }, 'mirror failed, trying the next endpoint');
      }
    }
    throw lastErr;
  }

  private async tags(signal?: AbortSignal): Promise<string[]> {
    const res = await this.client.request('GET', `/v2/${this.path}/tags/list`, { scopes: this.scopes, signal });
    if (res.statusCode !== 200) throw await responseError(res);
    const tags = (JSON.parse((await readBody(res)).toString('utf8')).tags ?? []) as string[];
    if (!tags.length) throw notFound(`no tags found for ${familiarName(this.ref.name)}`);
    return tags.sort();
  }

  private async resolveOne(ref: Reference, signal?: AbortSignal): Promise<Resolved> {
    const display = familiarString(ref);
    let m = await fetchManifest(this.client, this.path, ref.digest ?? ref.tag!, this.scopes, display, signal);
    const top = m;
    if (m.mediaType === MT.dockerList || m.mediaType === MT.ociIndex) {
      const d = selectPlatform(m.doc, this.platform);
      if (!d) throw notFound(`no matching manifest for ${platformString(this.platform)} in the manifest list entries`);
      m = await fetchManifest(this.client, this.path, d.digest, this.scopes, display, signal);
    }
    if (m.mediaType === MT.schema1 || m.mediaType === MT.schema1Signed || m.doc.schemaVersion === 1) throw invalid(SCHEMA1(display));
    if (m.mediaType !== MT.dockerManifest && m.mediaType !== MT.ociManifest) throw systemError(`unsupported manifest media type ${m.mediaType} for ${display}`);
    const image = m.doc as ImageManifest;
    if (!image.config?.digest || !Array.isArray(image.layers)) throw systemError(`invalid manifest for ${display}: config or layers missing`);
    // The repo digest the user sees is the one they pulled: the list's when it was a list.
    return { ref, manifest: top, image };
  }

  async pull(resolved: Resolved[], out: Out, emit: Emit, signal?: AbortSignal): Promise<void> {
    let newer = false;
    for (const r of resolved) newer = (await this.pullOne(r, out, emit, signal)) || newer;
    const all = !this.ref.tag && !this.ref.digest;
    const name = all ? this.ref.name : familiarString(resolved[0].ref);
    out({ status: `Status: ${newer ? 'Downloaded newer image' : 'Image is up to date'} for ${all ? familiarName(name) : name}` });
  }

  private async pullOne({ ref, manifest, image }: Resolved, out: Out, emit: Emit, signal?: AbortSignal): Promise<boolean> {
    out({ status: `Pulling from ${this.path}`, id: ref.digest ?? ref.tag });
    const configRaw = await this.fetchConfig(image.config, signal);
    const config = JSON.parse(configRaw.toString('utf8')) as { rootfs?: { diff_ids?: string[] }; os?: string; architecture?: string };
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== image.layers.length) throw systemError(`invalid image ${familiarString(ref)}: the config lists ${diffIds.length} layers, the manifest ${image.layers.length}`);
    if (this.p.platform && manifest.mediaType !== MT.dockerList && manifest.mediaType !== MT.ociIndex) {
      const want = platformString(this.platform);
      const actual = `${config.os ?? 'linux'}/${config.architecture ?? ''}`;
      if (!want.startsWith(actual)) throw invalid(`image with reference ${familiarString(ref)} was found but does not match the specified platform: wanted ${want}, actual: ${actual}`);
    }
    const imageId = sha256(configRaw);
    let newer = false;
    if (!this.images.db.get(imageId)) {
      await this.fetchLayers(image.layers, diffIds, out, signal);
      await this.images.db.create(configRaw);
    }
    const repo = `${this.host}/${this.path}`;
    for (let i = 0; i < diffIds.length; i++) await this.reg.digests.add(diffIds[i], image.layers[i].digest, image.layers[i].size, repo);
    if (ref.tag) {
      // dockerd reports a pull, not a tag, for the reference a pull sets.
      if (this.images.refs.get(ref) !== imageId) { newer = true; await this.images.tag(imageId, `${ref.name}:${ref.tag}`, () => {}); }
    }
    const digestRef = { name: ref.name, digest: manifest.digest };
    if (this.images.refs.get(digestRef) !== imageId) { newer = true; await this.images.refs.add(digestRef, imageId); }
    out({ status: `Digest: ${manifest.digest}` });
    emit({ Type: 'image', Action: 'pull', Actor: { ID: familiarString(ref), Attributes: { name: familiarName(ref.name) } } });
    return newer;
  }

  private async fetchConfig(d: Descriptor, signal?: AbortSignal): Promise<Buffer> {
    const res = await this.client.request('GET', `/v2/${this.path}/blobs/${d.digest}`, { scopes: this.scopes, signal });
    if (res.statusCode !== 200) throw await responseError(res);
    const raw = await readBody(res, 8 << 20);
    if (sha256(raw) !== d.digest) throw systemError(`image config verification failed for digest ${d.digest}`);
    return raw;
  }

  /**
   * Downloads run concurrently (bounded daemon-wide) into spools; layers are registered as one
   * chain, each read from its spool while it downloads (concurrently where the graph driver allows),
   * and committed bottom up, each only once its blob is verified.
   */
  private async fetchLayers(layers: Descriptor[], diffIds: string[], out: Out, signal?: AbortSignal): Promise<void> {
    const chain = chainIds(diffIds);
    const abort = new AbortController();
    const stop = signal ? AbortSignal.any([signal, abort.signal]) : abort.signal;
    const spools = new Map<number, BlobSpool>();
    const downloads: Promise<void>[] = [];
    const registered: string[] = [];
    const id = (i: number) => hexOf(layers[i].digest).slice(0, 12);
    for (let i = 0; i < layers.length; i++) {
      if (this.images.layers.get(chain[i])) { status(out, id(i), 'Already exists'); continue; }
      status(out, id(i), 'Pulling fs layer');
      const d = layers[i];
      const spool = new BlobSpool(join(this.reg.tmpDir, `${hexOf(d.digest)}-${process.pid}-${Math.random().toString(16).slice(2)}`));
      spools.set(i, spool);
      const p = this.reg.downloads.run(async () => {
        await downloadBlob(this.client, this.path, d, spool, {
          scopes: this.scopes, attempts: this.reg.attempts, signal: stop, onProgress: progressReporter(out, id(i), 'Downloading', d.size),
          onRetry: (attempt, err) => { status(out, id(i), `Retrying in ${attempt} second${attempt > 1 ? 's' : ''}`); this.reg.log.info({ digest: d.digest, err: err.message }, 'blob download interrupted, resuming'); },
        });
        status(out, id(i), 'Verifying Checksum');
        status(out, id(i), 'Download complete');
      }, () => status(out, id(i), 'Waiting'));
      p.catch(() => {}); // its error reaches the extractor through the spool
      downloads.push(p);
    }
    try {
      // The missing layers are the top of the chain (a layer exists only on its parents).
      const first = [...spools.keys()][0];
      for (let attempt = 0; first !== undefined; attempt++) {
        // A retry starts above what the first attempt committed.
        const from = chain.findIndex((c, i) => i >= first && !this.images.layers.get(c));
        if (from < 0) break;
        const items: ChainItem[] = [];
        for (let i = from; i < layers.length; i++) {
          const spool = spools.get(i)!;
          items.push({
            diffId: diffIds[i],
            tar: () => spool.reader(progressReporter(out, id(i), 'Extracting', layers[i].size)),
            // The blob's own verdict comes first: a corrupt blob also breaks gunzip or the diffID.
            explain: async (err) => (await spool.settled) ?? (/does not match its digest/.test((err as Error).message) ? verificationError(layers[i].digest) : err),
            onRegistered: (layer) => { registered.push(layer.chainId); status(out, id(i), 'Pull complete'); },
          });
        }
        try {
          await this.images.layers.registerChain(from > 0 ? chain[from - 1] : null, items, { concurrency: this.reg.config['max-concurrent-downloads'] });
          break;
        } catch (err) {
          if (!(err instanceof RewoundError) || attempt > 0) throw err;
        }
      }
    } catch (err) {
      abort.abort(err);
      await Promise.allSettled(downloads);
      // Nothing of a failed pull stays: layers registered for it that no image uses go again.
      await this.images.releaseLayers(registered).catch((e) => this.reg.log.warn({ err: e }, 'cannot release layers of a failed pull'));
      throw err;
    } finally {
      for (const s of spools.values()) await rm(s.file, { force: true });
    }
  }
}
