// POST /build's query as dockerd reads it (api/server/router/build/build_routes.go), into the
// build job's payload. What Berth cannot honour is refused with a 400 that names it.
import { invalid } from '../../core/plugin-api.js';

export interface BuildOptions {
  dockerfile: string;
  tags: string[];
  remote?: string;
  quiet: boolean;
  nocache: boolean;
  cacheFrom: string[];
  pull: boolean;
  rm: boolean;
  forceRm: boolean;
  buildArgs: Record<string, string | null>;
  labels: Record<string, string>;
  target?: string;
  networkMode: string;
  extraHosts: string[];
  shmSize?: number;
  memory?: number;
  memorySwap?: number;
  cpuShares?: number;
  cpuPeriod?: number;
  cpuQuota?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  cgroupParent?: string;
  ulimits: { Name: string; Soft: number; Hard: number }[];
  /** X-Registry-Config: credentials per registry for FROM pulls. */
  registryAuth: Record<string, Record<string, string>>;
}

export const buildOptionsSchema = {
  type: 'object',
  required: ['dockerfile', 'tags', 'quiet', 'nocache', 'cacheFrom', 'pull', 'rm', 'forceRm', 'buildArgs', 'labels', 'networkMode', 'extraHosts', 'ulimits', 'registryAuth'],
  properties: {
    dockerfile: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } }, remote: { type: 'string' },
    quiet: { type: 'boolean' }, nocache: { type: 'boolean' }, cacheFrom: { type: 'array', items: { type: 'string' } },
    pull: { type: 'boolean' }, rm: { type: 'boolean' }, forceRm: { type: 'boolean' },
    buildArgs: { type: 'object', additionalProperties: { type: ['string', 'null'] } },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    target: { type: 'string' }, networkMode: { type: 'string' }, extraHosts: { type: 'array', items: { type: 'string' } },
    shmSize: { type: 'number' }, memory: { type: 'number' }, memorySwap: { type: 'number' }, cpuShares: { type: 'number' },
    cpuPeriod: { type: 'number' }, cpuQuota: { type: 'number' }, cpusetCpus: { type: 'string' }, cpusetMems: { type: 'string' },
    cgroupParent: { type: 'string' }, ulimits: { type: 'array', items: { type: 'object' } },
    registryAuth: { type: 'object' },
  },
} as const;

type Query = Record<string, unknown>;

const first = (v: unknown): string | undefined => (Array.isArray(v) ? (v.length ? String(v[v.length - 1]) : undefined) : v === undefined ? undefined : String(v));
const all = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
/** Go's strconv.ParseBool, as r.FormValue booleans are read. */
const bool = (q: Query, key: string, dflt = false): boolean => {
  const v = first(q[key]);
  if (v === undefined || v === '') return dflt;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw invalid(`invalid value for ${key}: ${JSON.stringify(v)}`);
};
const int = (q: Query, key: string): number | undefined => {
  const v = first(q[key]);
  if (v === undefined || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw invalid(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
};
const json = <T>(q: Query, key: string, check: (v: unknown) => boolean, what: string): T | undefined => {
  const v = first(q[key]);
  if (v === undefined || v === '' || v === 'null') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw invalid(`invalid ${key}: not JSON: ${v}`);
  }
  if (parsed === null) return undefined;
  if (!check(parsed)) throw invalid(`invalid ${key}: expected ${what}`);
  return parsed as T;
};
const isStringMap = (nullable: boolean) => (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v)
  && Object.values(v).every((x) => typeof x === 'string' || (nullable && x === null));

export function parseBuildQuery(q: Query, registryConfig: string | undefined, opts: { experimental: boolean; arch: string }): BuildOptions {
  const version = first(q.version);
  if (version && version !== '1') {
    throw invalid(`builder version ${JSON.stringify(version)} (BuildKit) is not supported by Berth: it speaks only the classic builder (version=1); run docker build with DOCKER_BUILDKIT=0`);
  }
  if (bool(q, 'squash') && !opts.experimental) throw invalid('squash is only supported with experimental mode');
  if (bool(q, 'squash')) throw invalid('squash is not supported by Berth');
  if (first(q.session)) throw invalid('session is a BuildKit feature: Berth speaks only the classic builder (version=1), which has no session');
  if (first(q.outputs) && first(q.outputs) !== '[]' && first(q.outputs) !== 'null') throw invalid('outputs is a BuildKit feature: the classic builder (version=1) only stores the image');
  const isolation = first(q.isolation);
  if (isolation && isolation !== 'default') throw invalid(`Unsupported isolation: ${JSON.stringify(isolation)}`);
  const platform = first(q.platform);
  if (platform) {
    const [os, arch] = platform.toLowerCase().split('/');
    if (os !== 'linux' || (arch && arch !== opts.arch)) throw invalid(`platform ${JSON.stringify(platform)} is not supported by Berth: it builds for linux/${opts.arch} only`);
  }
  const ulimits = json<{ Name: string; Soft: number; Hard: number }[]>(q, 'ulimits', (v) => Array.isArray(v) && v.every((u) => typeof u?.Name === 'string'), 'a list of {Name, Soft, Hard}') ?? [];
  let registryAuth: BuildOptions['registryAuth'] = {};
  if (registryConfig) {
    try {
      const decoded = JSON.parse(Buffer.from(registryConfig.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as unknown;
      if (decoded && typeof decoded === 'object') registryAuth = decoded as BuildOptions['registryAuth'];
    } catch {
      throw invalid('X-Registry-Config: not base64-encoded JSON');
    }
  }
  const networkMode = first(q.networkmode) || 'default';
  const out: BuildOptions = {
    dockerfile: first(q.dockerfile) || 'Dockerfile',
    tags: all(q.t).filter(Boolean),
    ...(first(q.remote) ? { remote: first(q.remote)! } : {}),
    quiet: bool(q, 'q'),
    nocache: bool(q, 'nocache'),
    cacheFrom: json<string[]>(q, 'cachefrom', (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'), 'a JSON list of image names') ?? [],
    pull: bool(q, 'pull'),
    rm: bool(q, 'rm', true),
    forceRm: bool(q, 'forcerm'),
    buildArgs: json<Record<string, string | null>>(q, 'buildargs', isStringMap(true), 'a JSON object of strings') ?? {},
    labels: json<Record<string, string>>(q, 'labels', isStringMap(false), 'a JSON object of strings') ?? {},
    ...(first(q.target) ? { target: first(q.target)! } : {}),
    networkMode,
    extraHosts: all(q.extrahosts).flatMap((h) => h.split(',')).filter(Boolean),
    ulimits,
    registryAuth,
  };
  const numbers: [string, keyof BuildOptions][] = [
    ['shmsize', 'shmSize'], ['memory', 'memory'], ['memswap', 'memorySwap'], ['cpushares', 'cpuShares'], ['cpuperiod', 'cpuPeriod'], ['cpuquota', 'cpuQuota'],
  ];
  for (const [key, field] of numbers) {
    const n = int(q, key);
    if (n !== undefined && n !== 0) (out as unknown as Record<string, number>)[field] = n;
  }
  if (out.shmSize !== undefined && out.shmSize < 0) throw invalid('shmsize: SHM size can not be less than 0');
  for (const [key, field] of [['cpusetcpus', 'cpusetCpus'], ['cpusetmems', 'cpusetMems'], ['cgroupparent', 'cgroupParent']] as const) {
    const v = first(q[key]);
    if (v) out[field] = v;
  }
  return out;
}
