// docker import: one layer from a root file system tar, and a config built from --change lines.
import { arch } from 'node:os';
import { Readable } from 'node:stream';
import { invalid } from '../../core/plugin-api.js';
import { Images, type Emit } from './images.js';
import { applyChanges, emptyContainerConfig, goArch, type ImageConfig } from './image-config.js';

export interface ImportPayload {
  /** "-" for the request body, or an http(s) URL. */
  fromSrc: string;
  repo?: string;
  tag?: string;
  message?: string;
  changes?: string[];
  platform?: string;
}

async function source(fromSrc: string, body: Readable | undefined): Promise<Readable> {
  if (fromSrc === '-') {
    if (!body) throw invalid('import from "-" needs a request body');
    return body;
  }
  let url: URL;
  try {
    url = new URL(fromSrc);
  } catch {
    throw invalid(`invalid fromSrc "${fromSrc}": expected "-" or an http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`invalid fromSrc "${fromSrc}": only http and https URLs`);
  const res = await fetch(url, { signal: AbortSignal.timeout(10 * 60_000) });
  if (!res.ok || !res.body) throw invalid(`cannot download ${fromSrc}: ${res.status} ${res.statusText}`);
  return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
}

export async function importImage(images: Images, p: ImportPayload, body: Readable | undefined, dockerVersion: string, emit: Emit): Promise<string> {
  const refText = p.repo ? Images.joinRepoTag(p.repo, p.tag) : undefined;
  const config = applyChanges(emptyContainerConfig(), p.changes ?? []);
  const layer = await images.layers.register(await source(p.fromSrc, body), null);
  const created = new Date().toISOString();
  const comment = p.message || `Imported from ${p.fromSrc}`;
  const imageConfig: ImageConfig = {
    architecture: goArch(arch()),
    comment,
    config,
    container_config: emptyContainerConfig(),
    created,
    docker_version: dockerVersion,
    history: [{ created, comment }],
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
  };
  const image = await images.db.create(Buffer.from(JSON.stringify(imageConfig)));
  emit({ Type: 'image', Action: 'import', Actor: { ID: image.id, Attributes: { name: image.id } } });
  if (refText) await images.tag(image.id, refText, emit);
  return image.id;
}
