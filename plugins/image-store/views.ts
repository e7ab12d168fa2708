// What the API returns for images: summaries (GET /images/json), inspect, history.
import { invalid } from '../../core/plugin-api.js';
import type { Image } from './image-db.js';
import type { Images } from './images.js';
import { familiarString } from '../../lib/image-reference.js';

const seconds = (iso: string | undefined) => (iso ? Math.floor(Date.parse(iso) / 1000) || 0 : 0);

export const IMAGE_LIST_FILTERS = ['dangling', 'label', 'before', 'since', 'reference', 'until'] as const;

const GO_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * dockerd's timetypes.GetTimestamp for `until`, in milliseconds: Unix seconds (with a fraction),
 * an RFC 3339 date, or a Go duration ("10m", "1h30m") back from now.
 */
export function parseUntil(value: string, now = Date.now()): number {
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const parts = [...v.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length && parts.map((p) => p[0]).join('') === v.replace(/^-/, '')) {
    const ms = parts.reduce((sum, p) => sum + Number(p[1]) * GO_UNITS[p[2]], 0);
    return now - (v.startsWith('-') ? -ms : ms);
  }
  const ms = Date.parse(v);
  if (!Number.isNaN(ms)) return ms;
  throw invalid(`failed to parse value ${value} of until: not a Unix timestamp, RFC 3339 time or duration`);
}

function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${esc}$`);
}

/** An image as GET /images/json lists it at API 1.44 (the api-server's version gates give older shapes). */
export function imageSummary(images: Images, image: Image, sharedSize = -1) {
  return {
    Containers: -1,
    Created: seconds(image.config.created),
    Id: image.id,
    Labels: image.config.config?.Labels ?? null,
    ParentId: image.parent,
    RepoDigests: images.digestsOf(image.id),
    RepoTags: images.tagsOf(image.id),
    SharedSize: sharedSize,
    Size: images.size(image),
  };
}

/** SharedSize: the bytes of an image's layers that at least one other image also uses. */
function sharedSizes(images: Images): (image: Image) => number {
  const users = new Map<string, number>();
  for (const img of images.db.all()) for (const chainId of new Set(img.chain)) users.set(chainId, (users.get(chainId) ?? 0) + 1);
  return (image) => [...new Set(image.chain)].reduce((sum, chainId) => sum + ((users.get(chainId) ?? 0) > 1 ? images.layers.get(chainId)?.size ?? 0 : 0), 0);
}

/** GET /images/json with `all`, `filters` (dangling, label, before, since, until, reference) and `shared-size`. */
export function listImages(images: Images, all: boolean, filters: Record<string, string[]>, withSharedSize = false) {
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
  const until = one('until') !== undefined ? parseUntil(one('until')!) / 1000 : undefined;
  const shared = withSharedSize ? sharedSizes(images) : () => -1;
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
      if (until !== undefined && created >= until) return false;
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
    .map((img) => imageSummary(images, img, shared(img)))
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
