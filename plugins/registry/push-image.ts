// docker push: for each layer (bottom to top, several at once), skip it when the registry has
// its blob, mount it from another repository of the same registry when Berth knows one, else
// gzip the layer's tar once while uploading it (POST, streamed PATCH, PUT ?digest=) and remember
// the compressed digest; then the config blob and the schema2 manifest, whose digest is reported.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import { createGzip } from 'node:zlib';
import { notFound, systemError } from '../../core/plugin-api.js';
import { hexOf, sha256 } from '../../lib/digest.js';
import type { Image } from '../image-store/index.js';
import type { Emit, Images } from '../image-store/index.js';
import { familiarName, familiarString, parseReference, type Reference } from '../../lib/image-reference.js';
import type { AuthConfig } from '../../lib/registry-auth.js';
import { MT } from './manifest.js';
import { progressReporter, status, type Out } from './progress.js';
import type { RegistryClient } from './registry-client.js';
import { responseError } from './registry-errors.js';
import { splitName, type Registries } from './registries.js';

export interface PushPayload {
  name: string;
  tag?: string;
  auth?: AuthConfig;
}

/** The references a push covers: the one tag, or every tag of the repository. */
export function pushTargets(images: Images, p: PushPayload): { ref: Reference; image: Image }[] {
  const base = parseReference(p.name);
  const named = base.tag ? base : p.tag ? parseReference(`${p.name}:${p.tag}`) : undefined;
  const refs = named ? [named] : images.refs.all().map(([r]) => r).filter((r) => r.name === base.name && r.tag).sort((a, b) => a.tag!.localeCompare(b.tag!));
  const out = refs.flatMap((ref) => {
    const id = images.refs.get(ref);
    const image = id ? images.db.get(id) : undefined;
    return image ? [{ ref, image }] : [];
  });
  if (!out.length) throw notFound(`An image does not exist locally with the tag: ${familiarName(base.name)}`);
  return out;
}

/** dockerd reports a missing credential on push without the request's URL. */
const plain = (err: unknown) => (/: no basic auth credentials$/.test((err as Error).message) ? systemError('no basic auth credentials') : err);

export class Pusher {
  private readonly host: string;
  private readonly path: string;
  private readonly repo: string;
  private readonly scopes: string[];

  constructor(private readonly reg: Registries, private readonly images: Images, private readonly client: RegistryClient, name: string) {
    [this.host, this.path] = splitName(name);
    this.repo = `${this.host}/${this.path}`;
    this.scopes = [`repository:${this.path}:pull,push`];
  }

  async push(targets: { ref: Reference; image: Image }[], out: Out, emit: Emit, signal?: AbortSignal): Promise<void> {
    out({ status: `The push refers to repository [${familiarName(targets[0].ref.name)}]` });
    try {
      for (const t of targets) await this.pushOne(t.ref, t.image, out, emit, signal);
    } catch (err) {
      throw plain(err);
    }
  }

  private async pushOne(ref: Reference, image: Image, out: Out, emit: Emit, signal?: AbortSignal): Promise<void> {
    const diffIds = image.config.rootfs.diff_ids;
    const id = (i: number) => hexOf(diffIds[i]).slice(0, 12);
    for (let i = diffIds.length - 1; i >= 0; i--) status(out, id(i), 'Preparing');
    const blobs = await Promise.all(diffIds.map((_d, i) => this.reg.uploads.run(
      () => this.pushLayer(i, image, out, id(i), signal),
      () => status(out, id(i), 'Waiting'),
    )));
    const config = { mediaType: MT.dockerConfig, size: image.raw.length, digest: image.id };
    if (!(await this.exists(image.id, signal))) await this.uploadMonolithic(image.raw, image.id, signal);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MT.dockerManifest, config,
      layers: blobs.map((b) => ({ mediaType: MT.dockerLayerGzip, size: b.size, digest: b.digest })),
    }, null, 3));
    const res = await this.client.request('PUT', `/v2/${this.path}/manifests/${ref.tag}`, { scopes: this.scopes, headers: { 'Content-Type': MT.dockerManifest }, body: manifest, signal });
    if (res.statusCode !== 201 && res.statusCode !== 200) throw await responseError(res);
    res.resume();
    const digest = sha256(manifest);
    await this.images.refs.add({ name: ref.name, digest }, image.id);
    out({ status: `${ref.tag}: digest: ${digest} size: ${manifest.length}` });
    out({ progressDetail: {}, aux: { Tag: ref.tag, Digest: digest, Size: manifest.length } });
    emit({ Type: 'image', Action: 'push', Actor: { ID: familiarString(ref), Attributes: { name: familiarName(ref.name) } } });
  }

  private async exists(digest: string, signal?: AbortSignal): Promise<boolean> {
    const res = await this.client.request('HEAD', `/v2/${this.path}/blobs/${digest}`, { scopes: this.scopes, signal });
    res.resume();
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    throw await responseError(res);
  }

  private async pushLayer(i: number, image: Image, out: Out, id: string, signal?: AbortSignal): Promise<{ digest: string; size: number }> {
    const diffId = image.config.rootfs.diff_ids[i];
    const known = this.reg.digests.get(diffId);
    // Known in this repository (or anywhere on this registry): a HEAD settles it.
    for (const rec of known.filter((r) => r.repos.some((x) => x.startsWith(`${this.host}/`)))) {
      if (await this.exists(rec.digest, signal)) {
        await this.reg.digests.add(diffId, rec.digest, rec.size, this.repo);
        status(out, id, 'Layer already exists');
        return rec;
      }
      const from = rec.repos.find((x) => x.startsWith(`${this.host}/`) && x !== this.repo);
      if (from) {
        const fromPath = from.slice(this.host.length + 1);
        const res = await this.client.request('POST', `/v2/${this.path}/blobs/uploads/?mount=${encodeURIComponent(rec.digest)}&from=${encodeURIComponent(fromPath)}`, {
          scopes: [...this.scopes, `repository:${fromPath}:pull`], signal, headers: { 'Content-Length': '0' },
        });
        res.resume();
        if (res.statusCode === 201) {
          await this.reg.digests.add(diffId, rec.digest, rec.size, this.repo);
          status(out, id, `Mounted from ${fromPath}`);
          return rec;
        }
        if (res.statusCode === 202 && res.headers.location) await this.cancel(res, signal);
      }
    }
    const chainId = image.chain[i];
    const layer = this.images.layers.get(chainId);
    if (!layer) throw systemError(`layer ${chainId} of image ${image.id} does not exist`);
    let location = await this.startUpload(signal);
    // Opened only now: the stream holds the layer mounted until it ends or is destroyed.
    const tar = await this.images.layers.tarStream(chainId);
    const report = progressReporter(out, id, 'Pushing', layer.tarSize);
    let read = 0;
    const hash = createHash('sha256');
    let size = 0;
    const count = new Transform({ transform(c: Buffer, _e, cb) { read += c.length; report(read); cb(null, c); } });
    const measure = new Transform({ transform(c: Buffer, _e, cb) { hash.update(c); size += c.length; cb(null, c); } });
    tar.on('error', (err) => measure.destroy(err));
    const body = tar.pipe(count).pipe(createGzip({ chunkSize: 1 << 20 })).pipe(measure); // big chunks: see compression.ts
    let patch;
    try {
      patch = await this.client.request('PATCH', location, { scopes: this.scopes, headers: { 'Content-Type': 'application/octet-stream' }, body, signal });
    } finally {
      tar.destroy();
    }
    if (patch.statusCode !== 202) throw await responseError(patch);
    patch.resume();
    location = new URL(String(patch.headers.location ?? location), location);
    const digest = `sha256:${hash.digest('hex')}`;
    location.searchParams.set('digest', digest);
    const put = await this.client.request('PUT', location, { scopes: this.scopes, headers: { 'Content-Length': '0' }, signal });
    if (put.statusCode !== 201) throw await responseError(put);
    put.resume();
    await this.reg.digests.add(diffId, digest, size, this.repo);
    status(out, id, 'Pushed');
    return { digest, size };
  }

  private async startUpload(signal?: AbortSignal): Promise<URL> {
    const res = await this.client.request('POST', `/v2/${this.path}/blobs/uploads/`, { scopes: this.scopes, headers: { 'Content-Length': '0' }, signal });
    if (res.statusCode !== 202 || !res.headers.location) throw await responseError(res);
    res.resume();
    return new URL(res.headers.location, this.client.url('/'));
  }

  private async cancel(res: IncomingMessage, signal?: AbortSignal): Promise<void> {
    const del = await this.client.request('DELETE', new URL(res.headers.location!, this.client.url('/')), { scopes: this.scopes, signal }).catch(() => undefined);
    del?.resume();
  }

  private async uploadMonolithic(data: Buffer, digest: string, signal?: AbortSignal): Promise<void> {
    const location = await this.startUpload(signal);
    location.searchParams.set('digest', digest);
    const res = await this.client.request('PUT', location, { scopes: this.scopes, headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(data.length) }, body: data, signal });
    if (res.statusCode !== 201) throw await responseError(res);
    res.resume();
  }
}
