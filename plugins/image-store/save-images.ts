// docker save: a docker-archive tar (manifest.json, repositories, config and one folder per layer)
// that `docker load` on dockerd and on Berth accepts. Layer tars are reproduced byte for byte.
import type { Readable } from 'node:stream';
import { hexOf, sha256 } from '../../lib/digest.js';
import type { Image } from './image-db.js';
import type { Images } from './images.js';
import { familiarName, familiarString, normalize } from '../../lib/image-reference.js';
import { writeTar, type TarItem } from '../../lib/archive/index.js';

interface SaveItem {
  image: Image;
  /** Tags to record (those the user named, or all of the image's when named by ID). */
  tags: string[];
}

export function planSave(images: Images, names: string[]): SaveItem[] {
  const items = new Map<string, SaveItem>();
  for (const name of names) {
    const image = images.resolve(name);
    const item = items.get(image.id) ?? { image, tags: [] };
    // Named by reference: record that tag. Named by ID: record none, as dockerd does.
    try {
      const ref = normalize(name);
      if (ref.tag && images.refs.get(ref) === image.id) item.tags.push(familiarString(ref));
    } catch { /* an ID */ }
    items.set(image.id, item);
  }
  for (const i of items.values()) i.tags = [...new Set(i.tags)];
  return [...items.values()];
}

/** The v1 layer ID docker save uses as the folder name: a digest of the chain up to the layer. */
const v1Id = (chainId: string, imageId: string, top: boolean) => hexOf(sha256(top ? `${chainId} ${imageId}` : chainId));

export function saveImages(images: Images, items: SaveItem[]): Readable {
  async function* entries(): AsyncGenerator<TarItem> {
    const manifest: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
    const repositories: Record<string, Record<string, string>> = {};
    const written = new Set<string>();
    for (const { image, tags } of items) {
      const layerPaths: string[] = [];
      let parentV1 = '';
      for (let i = 0; i < image.chain.length; i++) {
        const chainId = image.chain[i];
        const id = v1Id(chainId, image.id, i === image.chain.length - 1);
        layerPaths.push(`${id}/layer.tar`);
        if (!written.has(id)) {
          written.add(id);
          const layer = images.layers.get(chainId)!;
          const v1 = { id, ...(parentV1 ? { parent: parentV1 } : {}), created: '1970-01-01T00:00:00Z', container_config: { Cmd: null } };
          yield { type: 'dir', name: id };
          yield { type: 'file', name: `${id}/VERSION`, data: Buffer.from('1.0') };
          yield { type: 'file', name: `${id}/json`, data: Buffer.from(JSON.stringify(v1)) };
          yield { type: 'file', name: `${id}/layer.tar`, size: layer.tarSize, stream: () => images.layers.tarStream(chainId) };
        }
        parentV1 = id;
      }
      yield { type: 'file', name: `${hexOf(image.id)}.json`, data: image.raw };
      manifest.push({ Config: `${hexOf(image.id)}.json`, RepoTags: tags.length ? tags : null, Layers: layerPaths });
      for (const t of tags) {
        (repositories[familiarName(normalize(t).name)] ??= {})[t.slice(t.lastIndexOf(':') + 1)] = parentV1;
      }
    }
    yield { type: 'file', name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) };
    if (Object.keys(repositories).length) yield { type: 'file', name: 'repositories', data: Buffer.from(JSON.stringify(repositories)) };
  }
  return writeTar(entries());
}
