// HostConfig.LogConfig as dockerd takes it: the daemon's default driver and options merged in at
// create (mergeAndVerifyLogConfig), then checked with dockerd's messages (400). Berth keeps every
// readable log the same way (in the exec driver's own format: conmon's CRI text file with runc);
// `json-file` and `local` differ in their options and defaults, `none` keeps no log.
import { invalid } from '../../../core/plugin-api.js';
import type { HostConfig } from '../records/index.js';

export interface LogConfig { Type: string; Config: Record<string, string> }

/** Options every driver takes (dockerd's builtInLogOpts), checked before the driver's own. */
const BUILTIN_OPTS = new Set(['mode', 'max-buffer-size']);
const DRIVER_OPTS: Record<string, Set<string>> = {
  'json-file': new Set(['max-file', 'max-size', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag']),
  local: new Set(['max-file', 'max-size', 'compress']),
  none: new Set(),
};
/** The local driver's defaults (moby daemon/logger/local): 20 MiB, 5 files. */
const LOCAL_DEFAULTS = { maxSize: 20 * 1024 * 1024, maxFiles: 5 };

const DECIMAL: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };
const BINARY: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** go-units' parseSize: "10k", "1.5MB", "20 mb", "512" (FromHumanSize: decimal; RAMInBytes: binary). */
export function parseSize(text: string, units: Record<string, number> = DECIMAL): number {
  const sep = Math.max(...[...'01234567890. '].map((ch) => text.lastIndexOf(ch)));
  if (sep < 0) throw new Error(`invalid size: '${text}'`);
  const num = text[sep] === ' ' ? text.slice(0, sep) : text.slice(0, sep + 1);
  let sfx = text.slice(sep + 1);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(num)) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(num)}: invalid syntax`);
  const size = Number(num);
  if (size < 0) throw new Error(`invalid size: '${text}'`);
  if (!sfx) return Math.trunc(size);
  const bad = () => new Error(`invalid suffix: '${sfx}'`);
  if (sfx.length > 3) throw bad();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) throw bad();
    return Math.trunc(size);
  }
  const mul = units[sfx[0]];
  if (!mul || (sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) throw bad();
  return Math.trunc(size * mul);
}

/** Go's strconv.Atoi, with its message. */
function atoi(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw new Error(`strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`);
  return Number(text);
}

function parseBool(text: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  throw new Error(`strconv.ParseBool: parsing ${JSON.stringify(text)}: invalid syntax`);
}

/** What rotation a log config asks for: undefined when the log just grows (or is not kept). */
export function rotationOf(cfg: LogConfig): { maxSize: number; maxFiles: number } | undefined {
  const o = cfg.Config ?? {};
  if (cfg.Type === 'local') {
    const maxSize = o['max-size'] ? parseSize(o['max-size']) : LOCAL_DEFAULTS.maxSize;
    return maxSize > 0 ? { maxSize, maxFiles: Math.max(1, o['max-file'] ? atoi(o['max-file']) : LOCAL_DEFAULTS.maxFiles) } : undefined;
  }
  if (cfg.Type !== 'json-file' || !o['max-size']) return undefined;
  return { maxSize: parseSize(o['max-size']), maxFiles: o['max-file'] ? atoi(o['max-file']) : 1 };
}

/** dockerd's ValidateLogOpts, then the checks its json-file and local drivers make when they open. */
export function validateLogConfig(cfg: LogConfig): void {
  if (cfg.Type === 'none') return;
  const o = cfg.Config;
  const mode = o.mode ?? '';
  if (!['', 'blocking', 'non-blocking'].includes(mode)) throw invalid(`logger: logging mode not supported: ${mode}`);
  if ('max-buffer-size' in o) {
    if (mode !== 'non-blocking') throw invalid("logger: max-buffer-size option is only supported with 'mode=non-blocking'");
    wrap('error parsing option max-buffer-size', () => parseSize(o['max-buffer-size'], BINARY));
  }
  const known = DRIVER_OPTS[cfg.Type];
  if (!known) throw invalid(`logger: no log driver named '${cfg.Type}' is registered`);
  for (const key of Object.keys(o)) {
    if (BUILTIN_OPTS.has(key) || known.has(key)) continue;
    throw invalid(cfg.Type === 'json-file' ? `unknown log opt '${key}' for json-file log driver` : `unknown log opt '${key}' for log driver ${cfg.Type}`);
  }
  if (cfg.Type === 'local') {
    const size = 'max-size' in o ? wrap(`invalid value for max-size: ${o['max-size']}`, () => parseSize(o['max-size'])) : 1;
    const files = 'max-file' in o ? wrap(`invalid value for max-file: ${o['max-file']}`, () => atoi(o['max-file'])) : LOCAL_DEFAULTS.maxFiles;
    if (size < 0) throw invalid('max-size must not be negative');
    if (files < 0) throw invalid('max-file must not be negative');
    const compress = 'compress' in o ? wrap('invalid boolean value for compress', () => parseBool(o.compress)) : true;
    if (compress && files <= 1) throw invalid('compression cannot be enabled when max file count is 1');
    return;
  }
  let size = -1;
  if ('max-size' in o) {
    size = wrap('', () => parseSize(o['max-size']));
    if (size <= 0) throw invalid('max-size must be a positive number');
  }
  let files = 1;
  if ('max-file' in o) {
    files = wrap('', () => atoi(o['max-file']));
    if (files < 1) throw invalid('max-file cannot be less than 1');
  }
  if ('compress' in o && wrap('', () => parseBool(o.compress)) && (files === 1 || size === -1)) {
    throw invalid('compress cannot be true when max-file is less than 2 or max-size is not set');
  }
}

/** Runs a parse, turning its error into a 400 with dockerd's prefix ("prefix: cause"). */
function wrap<T>(prefix: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const msg = (err as Error).message;
    throw invalid(prefix ? `${prefix}: ${msg}` : msg);
  }
}

/** The daemon-wide `log-driver` and `log-opts` (daemon.json map, or `--log-opt k=v` flags). */
export function daemonLogConfig(config: Readonly<Record<string, unknown>>): LogConfig {
  const opts = config['log-opts'];
  const Config: Record<string, string> = {};
  if (Array.isArray(opts)) {
    for (const kv of opts as string[]) {
      const eq = kv.indexOf('=');
      Config[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
  } else if (opts && typeof opts === 'object') {
    Object.assign(Config, opts);
  }
  return { Type: (config['log-driver'] as string | undefined) || 'json-file', Config };
}

/** mergeAndVerifyLogConfig: the daemon's driver when none is given, its options under the request's. */
export function resolveLogConfig(requested: Partial<LogConfig> | null | undefined, defaults: LogConfig): LogConfig {
  const Type = requested?.Type || defaults.Type;
  const Config = { ...(requested?.Config ?? {}) };
  if (Type === defaults.Type) for (const [k, v] of Object.entries(defaults.Config)) if (!(k in Config)) Config[k] = v;
  const cfg = { Type, Config };
  validateLogConfig(cfg);
  return cfg;
}

/** A container's log config; containers made before Berth recorded one use json-file. */
export function logConfigOf(h: HostConfig): LogConfig {
  const cfg = h.LogConfig as LogConfig | undefined;
  return cfg?.Type ? { Type: cfg.Type, Config: cfg.Config ?? {} } : { Type: 'json-file', Config: {} };
}
