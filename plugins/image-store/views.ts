// What the API returns for images: summaries (GET /images/json), inspect, history.
import { invalid } from '../../core/plugin-api.js';
import type { Image } from './image-db.js';
import type { Images } from './images.js';
import { familiarString } from '../../lib/image-reference.js';

const seconds = (iso: string | undefined) => (iso ? Math.floor(Date.parse(iso) / 1000) || 0 : 0);

export const IMAGE_LIST_FILTERS = ['dangling', 'label', 'before', 'since', 'reference'] as const;

function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${esc}$`);
}

export function imageSummary(images: Images, image: Image) {
  const tags = images.tagsOf(image.id);
  const digests = images.digestsOf(image.id);
  const size = images.size(image);
  return {
    Containers: -1,
    Created: seconds(image.config.created),
    Id: image.id,
    Labels: image.config.config?.Labels ?? null,
    ParentId: image.parent,
    RepoDigests: digests.length ? digests : tags.length ? null : ['<none>@<none>'],
    RepoTags: tags.length ? tags : ['<none>:<none>'],
    SharedSize: -1,
    Size: size,
    VirtualSize: size,
  };
}

/** GET /images/json with `all` and `filters` (dangling, label, before, since, reference). */
export function listImages(images: Images, all: boolean, filters: Record<string, string[]>) {
  const one = (key: string) => {
    const v = filters[key];
    if (v && v.length > 1) throw invalid(`filter "${key}" takes one value`);
    return v?.[0];
  };
  const dangling = one('dangling');
  if (dangling !== undefined && !['true', 'false', '1', '0'].includes(dangling)) throw invalid(`Invalid filter 'dangling=${dangling}'`);
  const createdOf = (name: string) => seconds(images.resolve(name).config.created);
  const before = one('before') !== undefined ? createdOf(one('before')!) : undefined;
  const since = one('since') !== undefined ? createdOf(one('since')!) : undefined;
  const refPatterns = (filters.reference ?? []).map(globToRegExp);
  return images.db.all()
    .filter((img) => {
      const isDangling = images.isDangling(img);
      if (dangling !== undefined && isDangling !== (dangling === 'true' || dangling === '1')) return false;
      // Without all, intermediate images (untagged parents of other images) are hidden.
      if (!all && isDangling && images.children(img.id).length) return false;
      const created = seconds(img.config.created);
      if (before !== undefined && created >= before) return false;
      if (since !== undefined && created <= since) return false;
      const labels = img.config.config?.Labels ?? {};
      for (const l of filters.label ?? []) {
        const eq = l.indexOf('=');
        if (eq < 0 ? !(l in labels) : labels[l.slice(0, eq)] !== l.slice(eq + 1)) return false;
      }
      if (refPatterns.length) {
        const names = images.refs.refsOf(img.id).map(familiarString);
        const matches = names.some((n) => {
          const bare = n.replace(/[:@][^/]*$/, '');
          return refPatterns.some((re) => re.test(n) || re.test(bare));
        });
        if (!matches) return false;
      }
      return true;
    })
    .map((img) => imageSummary(images, img))
    .sort((a, b) => b.Created - a.Created || a.Id.localeCompare(b.Id));
}

export function inspectImage(images: Images, image: Image, driver: string) {
  const c = image.config;
  const size = images.size(image);
  return {
    Id: image.id,
    RepoTags: images.tagsOf(image.id),
    RepoDigests: images.digestsOf(image.id),
    Parent: image.parent,
    Comment: c.comment ?? '',
    Created: c.created ?? '',
    Container: c.container ?? '',
    ContainerConfig: c.container_config ?? {},
    DockerVersion: c.docker_version ?? '',
    Author: c.author ?? '',
    Config: c.config ?? null,
    Architecture: c.architecture ?? '',
    ...(c.variant ? { Variant: c.variant } : {}),
    Os: c.os ?? '',
    Size: size,
    VirtualSize: size,
    GraphDriver: { Data: null, Name: driver },
    RootFS: { Type: 'layers', Layers: c.rootfs.diff_ids },
    Metadata: { LastTagTime: image.lastTagTime ?? '0001-01-01T00:00:00Z' },
  };
}

export function imageHistory(images: Images, image: Image) {
  const history = image.config.history?.length
    ? image.config.history
    : image.chain.map(() => ({ created: image.config.created }));
  let layerIndex = 0;
  const rows = history.map((h) => {
    let size = 0;
    if (!('empty_layer' in h && h.empty_layer)) {
      const chainId = image.chain[layerIndex++];
      size = chainId ? images.layers.get(chainId)?.size ?? 0 : 0;
    }
    return {
      Comment: 'comment' in h ? h.comment ?? '' : '',
      Created: seconds(h.created),
      CreatedBy: 'created_by' in h ? h.created_by ?? '' : '',
      Id: '<missing>',
      Size: size,
      Tags: null as string[] | null,
    };
  }).reverse();
  if (rows.length) {
    rows[0].Id = image.id;
    const tags = images.tagsOf(image.id);
    rows[0].Tags = tags.length ? tags : null;
  }
  return rows;
}
