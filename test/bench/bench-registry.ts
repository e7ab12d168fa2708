// The pull benchmark's registry: Debian's docker-registry on 127.0.0.1 (started as the tests
// start it, storage in a scratch folder), holding one ~100 MB five-layer image written straight
// through the registry's HTTP API (blob uploads and a schema2 manifest), so it does not depend
// on any daemon's push. The layers are random data: gzip cannot shrink them, so compressed and
// uncompressed sizes are within 0.1% of each other.
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { startRegistry, type RunningRegistry } from '../helpers/registry.js';
import { BIG_IMAGE_LAYERS, imageConfig, makeLayer } from './docker-archive.js';
import { scratchDir, trackClient } from './daemons.js';

const gzipAsync = promisify(gzip);

export interface Blob {
  digest: string;
  size: number;
}

export interface BenchImage {
  registry: RunningRegistry;
  /** 127.0.0.1:PORT/bench/big */
  repository: string;
  tag: string;
  /** Layer blobs (gzipped tars), bottom first. */
  layers: Blob[];
  /** Sum of the layer blobs' sizes: what a pull downloads, besides the small config and manifest. */
  layerBytes: number;
  /** http://127.0.0.1:PORT/v2/bench/big/blobs/<digest> of each layer. */
  layerUrls: string[];
}

const REPO = 'bench/big';
const TAG = '1';
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Answer {
  status: number;
  location?: string;
  body: string;
}

function call(url: URL, method: string, body?: Buffer, contentType = 'application/octet-stream'): Promise<Answer> {
  if (url.hostname !== '127.0.0.1') return Promise.reject(new Error(`refusing traffic to ${url.host}: the benchmark talks to 127.0.0.1 only`));
  return new Promise((resolve, reject) => {
    const headers = body ? { 'Content-Type': contentType, 'Content-Length': body.length } : { 'Content-Length': 0 };
    const req = request(url, { method, headers, agent: false, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Monolithic upload: POST opens an upload session, one PUT with ?digest= sends and commits the blob. */
async function putBlob(base: URL, data: Buffer): Promise<Blob> {
  const digest = sha256(data);
  const start = await call(new URL(`/v2/${REPO}/blobs/uploads/`, base), 'POST');
  if (start.status !== 202 || !start.location) throw new Error(`registry: POST blob upload: HTTP ${start.status}: ${start.body.slice(0, 300)}`);
  const target = new URL(start.location, base);
  target.searchParams.set('digest', digest);
  const put = await call(target, 'PUT', data);
  if (put.status !== 201) throw new Error(`registry: PUT blob ${digest}: HTTP ${put.status}: ${put.body.slice(0, 300)}`);
  return { digest, size: data.length };
}

async function populate(registry: RunningRegistry): Promise<BenchImage> {
  const base = new URL(`http://${registry.host}`);
  const layers: Blob[] = [];
  const diffIds: string[] = [];
  // One layer in memory at a time.
  for (const spec of BIG_IMAGE_LAYERS) {
    const tar = makeLayer(spec);
    diffIds.push(sha256(tar));
    layers.push(await putBlob(base, await gzipAsync(tar)));
  }
  const config = await putBlob(base, Buffer.from(imageConfig(`${registry.host}/${REPO}:${TAG}`, diffIds.map((diffId, index) => ({ index, diffId })))));
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', ...config },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', ...l })),
  };
  const put = await call(new URL(`/v2/${REPO}/manifests/${TAG}`, base), 'PUT', Buffer.from(JSON.stringify(manifest)), manifest.mediaType);
  if (put.status !== 201) throw new Error(`registry: PUT manifest: HTTP ${put.status}: ${put.body.slice(0, 300)}`);
  return {
    registry,
    repository: `${registry.host}/${REPO}`,
    tag: TAG,
    layers,
    layerBytes: layers.reduce((n, l) => n + l.size, 0),
    layerUrls: layers.map((l) => new URL(`/v2/${REPO}/blobs/${l.digest}`, base).href),
  };
}

let image: Promise<BenchImage> | undefined;

/**
 * Starts the registry and uploads the image on first use; later calls share both. An interrupted
 * run kills the registry (it is tracked like a client) and removes its scratch folder.
 */
export function benchImage(): Promise<BenchImage> {
  image ??= (async () => {
    const registry = await startRegistry({ dir: scratchDir('registry'), onSpawn: trackClient });
    try {
      return await populate(registry);
    } catch (err) {
      await registry.stop();
      throw new Error(`${(err as Error).message}\n${registry.logs().slice(-2000)}`);
    }
  })();
  return image;
}

/** Stops the registry if it was started; a later benchImage() starts and fills a new one. */
export async function stopBenchRegistry(): Promise<void> {
  const started = image;
  image = undefined;
  const r = await started?.catch(() => undefined);
  await r?.registry.stop();
}
