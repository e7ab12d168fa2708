// Every behaviour that depends on the API version a request names, in one table a reader can
// audit against moby's api/docs/CHANGELOG.md. Routes never compare versions themselves: they ask
// `since(req, gate)`, or let `adaptRequest` / `adaptResponse` apply the table to a body. Bodies are
// produced in the newest shape; an older client gets each later change undone (`older`).
//
// A "refused" row is something the API range includes that Berth cannot honour: a request that
// uses it gets a 400 naming it, at every version where the field exists (never accepted and ignored).
import { compareVersions } from './api-version.js';

type Body = Record<string, any>;

export interface VersionGate {
  /** The first API version with the new behaviour. */
  since: string;
  /** The routes it changes, as "METHOD /path" with the spec's {placeholders}. */
  routes: readonly string[];
  /** What changes, in a line. */
  change: string;
  /** Request gates: the body as dockerd reads it below `since` (fields it did not know dropped). */
  olderRequest?: (body: Body) => Body;
  /** Response gates: the body as dockerd wrote it below `since`. */
  olderResponse?: (body: any) => any;
}

const CREATE = 'POST /containers/create';
const without = (o: any, ...keys: string[]): any => {
  if (!o || typeof o !== 'object') return o;
  const out = { ...o };
  for (const k of keys) delete out[k];
  return out;
};

export const VERSION_GATES = {
  'ipc-private-default': {
    since: '1.40', routes: [CREATE],
    change: 'an unset `HostConfig.IpcMode` is the daemon\'s default, private (below: shareable, so `--ipc container:<id>` can join it)',
    olderRequest: (b) => (!b.HostConfig || (typeof b.HostConfig === 'object' && !b.HostConfig.IpcMode) ? { ...b, HostConfig: { ...b.HostConfig, IpcMode: 'shareable' } } : b),
  },
  'wait-condition-400': {
    since: '1.30', routes: ['POST /containers/{id}/wait'],
    change: 'an unknown `condition` is answered 400 (below: waits as not-running)',
  },
  'stop-signal': {
    since: '1.42', routes: ['POST /containers/{id}/stop', 'POST /containers/{id}/restart'],
    change: 'query parameter `signal` replaces the container\'s stop signal (below: ignored)',
  },
  'stream-content-type': {
    since: '1.42', routes: ['POST /containers/{id}/attach', 'POST /exec/{id}/start', 'GET /containers/{id}/logs'],
    change: 'Content-Type application/vnd.docker.multiplexed-stream when stdout/stderr are framed, raw-stream on a TTY (below: raw-stream on attach and exec, none on logs)',
  },
  'console-size': {
    since: '1.42', routes: [CREATE, 'POST /containers/{id}/exec'],
    change: '`ConsoleSize` [height, width] sizes the TTY from the start (below: ignored)',
    olderRequest: (b) => (b.HostConfig ? { ...without(b, 'ConsoleSize'), HostConfig: without(b.HostConfig, 'ConsoleSize') } : without(b, 'ConsoleSize')),
  },
  'images-shared-size': {
    since: '1.42', routes: ['GET /images/json'],
    change: 'query parameter `shared-size` fills SharedSize (below: always -1)',
  },
  'volume-prune-anonymous': {
    since: '1.42', routes: ['POST /volumes/prune'],
    change: 'only anonymous volumes are pruned unless the filter `all=true` is given (below: every unused volume)',
  },
  'df-type': {
    since: '1.42', routes: ['GET /system/df'],
    change: 'query parameter `type` (container, image, volume, build-cache) limits what is computed (below: everything)',
  },
  'untagged-empty-lists': {
    since: '1.43', routes: ['GET /images/json'],
    change: 'an untagged image has RepoTags [] and RepoDigests [] (below: ["<none>:<none>"], ["<none>@<none>"])',
    olderResponse: (list: Body[]) => list.map((i) => ({
      ...i,
      RepoTags: i.RepoTags?.length ? i.RepoTags : ['<none>:<none>'],
      RepoDigests: i.RepoDigests?.length ? i.RepoDigests : i.RepoTags?.length ? i.RepoDigests : ['<none>@<none>'],
    })),
  },
  'no-virtual-size': {
    since: '1.44', routes: ['GET /images/json', 'GET /images/{name}/json', 'GET /system/df'],
    change: '`VirtualSize` is omitted; `Size` holds the same figure (below: VirtualSize = Size)',
    olderResponse: (b: any) => {
      const add = (i: Body) => ({ ...i, VirtualSize: i.Size });
      if (Array.isArray(b)) return b.map(add);
      if (Array.isArray(b?.Images)) return { ...b, Images: b.Images.map(add) };
      return add(b);
    },
  },
  'health-start-interval': {
    since: '1.44', routes: [CREATE],
    change: '`Healthcheck.StartInterval` sets the probe interval during the start period (below: ignored)',
    olderRequest: (b) => (b.Healthcheck && typeof b.Healthcheck === 'object' ? { ...b, Healthcheck: without(b.Healthcheck, 'StartInterval') } : b),
  },
  'dns-names': {
    since: '1.44', routes: ['GET /containers/{id}/json'],
    change: '`NetworkSettings.Networks.*.DNSNames` lists the names the container answers to (below: absent)',
    olderResponse: (b: any) => {
      const nets = b?.NetworkSettings?.Networks;
      if (!nets) return b;
      const out = Object.fromEntries(Object.entries(nets).map(([k, v]) => [k, without(v as Body, 'DNSNames')]));
      return { ...b, NetworkSettings: { ...b.NetworkSettings, Networks: out } };
    },
  },
  'runtime-status': {
    since: '1.44', routes: ['GET /info'],
    change: '`Runtimes.*.status` reports each runtime\'s state (below: absent)',
    olderResponse: (b: any) => (b?.Runtimes
      ? { ...b, Runtimes: Object.fromEntries(Object.entries(b.Runtimes).map(([k, v]) => [k, without(v as Body, 'status')])) }
      : b),
  },
} satisfies Record<string, VersionGate>;

export type GateId = keyof typeof VERSION_GATES;

/** True when the request's API version has the gate's behaviour. */
export function since(req: { apiVersion: string }, id: GateId): boolean {
  return compareVersions(req.apiVersion, VERSION_GATES[id].since) >= 0;
}

const gatesOf = (route: string, version: string, kind: 'olderRequest' | 'olderResponse') =>
  (Object.values(VERSION_GATES) as VersionGate[])
    .filter((g) => g[kind] && g.routes.includes(route) && compareVersions(version, g.since) < 0)
    // Undo the newest change first, back to the request's version.
    .sort((a, b) => compareVersions(b.since, a.since));

/** A request body as dockerd at the request's version reads it. */
export function adaptRequest<T>(req: { apiVersion: string }, route: string, body: T): T {
  let out: any = body;
  if (!out || typeof out !== 'object') return body;
  for (const g of gatesOf(route, req.apiVersion, 'olderRequest')) out = g.olderRequest!(out);
  return out as T;
}

/** A response body as dockerd at the request's version writes it. */
// A frozen (shared) body gets each older shape made once, frozen in turn (see respond.ts).
const olderShapes = new WeakMap<object, Map<string, unknown>>();

export function adaptResponse<T>(req: { apiVersion: string }, route: string, body: T): T {
  const gates = gatesOf(route, req.apiVersion, 'olderResponse');
  if (!gates.length) return body;
  const shared = typeof body === 'object' && body !== null && Object.isFrozen(body);
  const key = `${route} ${req.apiVersion}`;
  const made = shared ? olderShapes.get(body as object)?.get(key) : undefined;
  if (made !== undefined) return made as T;
  let out: any = body;
  for (const g of gates) out = g.olderResponse!(out);
  if (shared) {
    let shapes = olderShapes.get(body as object);
    if (!shapes) olderShapes.set(body as object, (shapes = new Map()));
    shapes.set(key, typeof out === 'object' && out !== null ? Object.freeze(out) : out);
  }
  return out as T;
}

/**
 * What API 1.42–1.44 add that Berth cannot honour: a request using it is refused with 400 naming
 * the field, whatever the version (dockerd below the version would ignore it; Berth never does).
 */
export interface Refusal {
  since: string;
  routes: readonly string[];
  field: string;
  /** The offending value's path in the body, or undefined when the body does not use it. */
  find: (body: Body) => string | undefined;
}

const mounts = (b: Body): Body[] => (Array.isArray(b?.HostConfig?.Mounts) ? b.HostConfig.Mounts.filter((m: unknown) => m && typeof m === 'object') : []);
const bindOption = (name: string) => (b: Body) => {
  const i = mounts(b).findIndex((m) => m.BindOptions && typeof m.BindOptions === 'object' && m.BindOptions[name]);
  return i < 0 ? undefined : `HostConfig.Mounts[${i}].BindOptions.${name}`;
};

export const REFUSALS: readonly Refusal[] = [
  {
    since: '1.45', routes: [CREATE], field: 'VolumeOptions.Subpath',
    find: (b) => {
      const i = mounts(b).findIndex((m) => m.VolumeOptions && typeof m.VolumeOptions === 'object' && m.VolumeOptions.Subpath);
      return i < 0 ? undefined : `HostConfig.Mounts[${i}].VolumeOptions.Subpath`;
    },
  },
  { since: '1.42', routes: [CREATE], field: 'BindOptions.CreateMountpoint', find: bindOption('CreateMountpoint') },
  { since: '1.44', routes: [CREATE], field: 'BindOptions.ReadOnlyNonRecursive', find: bindOption('ReadOnlyNonRecursive') },
  { since: '1.44', routes: [CREATE], field: 'BindOptions.ReadOnlyForceRecursive', find: bindOption('ReadOnlyForceRecursive') },
  {
    since: '1.43', routes: [CREATE], field: 'HostConfig.Annotations',
    find: (b) => (b?.HostConfig?.Annotations && Object.keys(b.HostConfig.Annotations).length ? 'HostConfig.Annotations' : undefined),
  },
];

/** dockerd has no wording for these: Berth's names the field and says why. */
export function refusedFields(route: string, body: unknown): string[] {
  if (!body || typeof body !== 'object') return [];
  return REFUSALS.filter((r) => r.routes.includes(route)).flatMap((r) => {
    const at = r.find(body as Body);
    return at ? [`${at}: not supported by Berth (API ${r.since} ${r.field})`] : [];
  });
}
