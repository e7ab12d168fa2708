// The plugin manifest (plugin.json): what a plugin is, what it needs, and the schema of its config.
// Validated with ajv before any of the plugin's code is loaded.
import { isRange, isVersion, satisfies } from '../semver.js';
import { pluginError } from '../errors.js';
import { validate, type JsonSchema } from '../schema.js';
import type { FlagType } from '../config/flags.js';

/** The version of the plugin API this core offers; manifests name a semver range of it. */
export const CORE_API_VERSION = '1.1.0'; // 1.1.0: ctx.drivers, ctx.fs, ctx.schema, ctx.semver; versioned requires/provides

export const PLUGIN_KINDS = [
  'api', 'builtin', 'graphdriver', 'networkdriver', 'execdriver', 'registry', 'authz', 'volume', 'log',
] as const;
export type PluginKind = (typeof PLUGIN_KINDS)[number];

export interface ManifestFlag {
  name: string;
  short?: string;
  key: string;
  description: string;
  type?: FlagType;
}

export interface PluginManifest {
  name: string;
  version: string;
  kind: PluginKind;
  description?: string;
  /** semver range of CORE_API_VERSION the plugin was written for. */
  coreApi: string;
  main: string;
  /** Services published, each with its version. Normalised: the array form gives each the plugin's version. */
  provides: Record<string, string>;
  /** Services used, each with a semver range of its version. Normalised: the array form means any version ("*"). */
  requires: Record<string, string>;
  /** JSON Schema of the daemon.json keys this plugin owns. */
  config: JsonSchema;
  flags: ManifestFlag[];
  reloadable: string[];
  /** Oldest Linux kernel the plugin works on, e.g. "4.0". */
  kernel?: string;
}

const SERVICES = {
  type: ['object', 'array'],
  items: { type: 'string', minLength: 1 },
  uniqueItems: true,
  propertyNames: { minLength: 1 },
  additionalProperties: { type: 'string' },
};

export const manifestSchema: JsonSchema = {
  type: 'object',
  required: ['name', 'version', 'kind', 'coreApi'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]*$' },
    version: { type: 'string' },
    kind: { enum: [...PLUGIN_KINDS] },
    description: { type: 'string' },
    coreApi: { type: 'string' },
    main: { type: 'string', default: 'index.js' },
    // {"images": "1.0.0"} / {"images": "^1"}; the array form of the first manifests is still read.
    provides: { ...SERVICES, default: {} },
    requires: { ...SERVICES, default: {} },
    config: {
      type: 'object',
      default: { type: 'object', properties: {} },
      properties: { type: { const: 'object' }, properties: { type: 'object' } },
    },
    flags: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        required: ['name', 'key', 'description'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: '^[a-z][a-z0-9-]*$' },
          short: { type: 'string', pattern: '^[A-Za-z]$' },
          key: { type: 'string' },
          description: { type: 'string' },
          type: { enum: ['string', 'boolean', 'integer', 'number', 'list'] },
        },
      },
    },
    reloadable: { type: 'array', items: { type: 'string' }, default: [] },
    kernel: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+){0,2}$' },
  },
};

/** Validates a parsed plugin.json; `where` names the file for the error. */
export function checkManifest(data: unknown, where: string): PluginManifest {
  const label = (data as { name?: unknown })?.name;
  const who = typeof label === 'string' ? label : where;
  const problems = validate(manifestSchema, data);
  if (problems.length) throw pluginError(who, `manifest ${where}: ${problems.join('; ')}`);
  const m = data as PluginManifest;
  if (!isVersion(m.version)) {
    throw pluginError(m.name, `manifest ${where}: version: must be a semver version, got "${m.version}"`);
  }
  m.provides = serviceTable(m.provides, m.version);
  m.requires = serviceTable(m.requires, '*');
  for (const [svc, v] of Object.entries(m.provides)) {
    if (!isVersion(v)) throw pluginError(m.name, `manifest ${where}: provides.${svc}: must be a semver version, got "${v}"`);
  }
  for (const [svc, r] of Object.entries(m.requires)) {
    if (!isRange(r)) throw pluginError(m.name, `manifest ${where}: requires.${svc}: must be a semver range, got "${r}"`);
  }
  if (!isRange(m.coreApi)) {
    throw pluginError(m.name, `manifest ${where}: coreApi: must be a semver range, got "${m.coreApi}"`);
  }
  if (!satisfies(CORE_API_VERSION, m.coreApi)) {
    throw pluginError(m.name, `coreApi: requires core plugin API "${m.coreApi}", but this daemon provides ${CORE_API_VERSION}`);
  }
  const keys = Object.keys((m.config.properties as object | undefined) ?? {});
  for (const f of m.flags) {
    if (!keys.includes(f.key)) throw pluginError(m.name, `manifest ${where}: flags.${f.name}: key "${f.key}" is not a property of config`);
  }
  for (const r of m.reloadable) {
    if (!keys.includes(r)) throw pluginError(m.name, `manifest ${where}: reloadable: "${r}" is not a property of config`);
  }
  return m;
}

/** The object form of provides/requires; an array gives every service the same version (or range). */
function serviceTable(declared: Record<string, string> | string[], each: string): Record<string, string> {
  return Array.isArray(declared) ? Object.fromEntries(declared.map((svc) => [svc, each])) : declared;
}

/** The version at which a plugin provides a service; its own name is a service at the plugin's version. */
export function providedVersion(m: PluginManifest, service: string): string {
  return Object.hasOwn(m.provides, service) ? m.provides[service] : m.version;
}

/** The flag type that fits a config property's schema. */
export function flagTypeOf(schema: JsonSchema | undefined): FlagType {
  switch (schema?.type) {
    case 'boolean': return 'boolean';
    case 'integer': return 'integer';
    case 'number': return 'number';
    case 'array': return 'list';
    default: return 'string';
  }
}
