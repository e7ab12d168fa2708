// The JSON bodies of the Engine API routes Berth serves, checked as dockerd decodes them, against
// the spec of the request's API version. The build converts the swagger files next to this module
// into request-bodies.schema.json (bin/build-assets.mjs); nothing here repeats a field of the spec.
// Problems are worded as dockerd words them: Go's encoding/json for a wrong type or a number out
// of its Go type's range ("json: cannot unmarshal string into Go struct field Resources.HostConfig.Memory
// of type int64"), dockerd's own validation for the enums it checks, else "field: problem".
import { readFileSync } from 'node:fs';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { goDecodeSchema, STRSLICE, type JsonSchema, type Swagger } from './go-decode-schema.js';

export const REQUEST_BODIES_SCHEMA_FILE = 'request-bodies.schema.json';

/** The spec files, by the API version they describe; a request uses the oldest one at or above its version. */
export const BODY_SPECS = { '1.41': 'swagger-v1.41.yaml', '1.44': 'swagger-v1.44.yaml' } as const;
type SpecVersion = keyof typeof BODY_SPECS;

/** Each body: its route in the spec, and the Go type dockerd decodes it into. */
export const BODY_KINDS = {
  'container-create': { path: '/containers/create', root: 'CreateRequest' },
  'container-update': { path: '/containers/{id}/update', root: 'UpdateConfig' },
  'network-create': { path: '/networks/create', root: 'CreateRequest' },
  'network-connect': { path: '/networks/{id}/connect', root: 'ConnectOptions' },
  'network-disconnect': { path: '/networks/{id}/disconnect', root: 'DisconnectOptions' },
  'exec-create': { path: '/containers/{id}/exec', root: 'ExecOptions' },
  'exec-start': { path: '/exec/{id}/start', root: 'ExecStartOptions' },
  'volume-create': { path: '/volumes/create', root: 'VolumeCreateOptions' },
} as const;
export type BodyKind = keyof typeof BODY_KINDS;

/** The enums dockerd checks after decoding (definition.property), with its wording. */
const ENUM_CHECKS: Record<string, (v: string, field: string) => string> = {
  'RestartPolicy.Name': (v) => `invalid restart policy: unknown policy '${v}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`,
  'Mount.Type': (v) => `invalid mount config for type ${JSON.stringify(v)}: mount type unknown`,
  'Mount.BindOptions.Propagation': (v) => `invalid propagation mode: ${v}`,
  'HostConfig.CgroupnsMode': (v) => `invalid cgroup namespace mode: ${v}`,
  'HostConfig.Isolation': (v) => `invalid isolation (${v}): linux only supports 'default'`,
};

/** Go integer types the spec leaves unsaid (by definition.property; ".X" is a field of an inline body). */
const GO_FORMATS: Record<string, string> = {
  'Resources.BlkioWeight': 'uint16', 'HostConfig.ConsoleSize': 'uint', '.ConsoleSize': 'uint',
};

type SwaggerPaths = Swagger['paths'];

/** Build time: every body's schema from one parsed spec. */
export function requestBodySchemasFromSpec(swagger: Swagger): Record<BodyKind, JsonSchema> {
  const out = {} as Record<BodyKind, JsonSchema>;
  for (const [kind, { path, root }] of Object.entries(BODY_KINDS) as [BodyKind, (typeof BODY_KINDS)[BodyKind]][]) {
    const body = (swagger.paths as SwaggerPaths)[path]?.post?.parameters?.find((p) => p.in === 'body')?.schema;
    // A route the older spec lacks takes no body there: anything goes, as Go ignores it.
    if (!body) {
      out[kind] = {};
      continue;
    }
    out[kind] = goDecodeSchema(swagger, body, {
      overrides: { ContainerConfig: { Cmd: STRSLICE, Entrypoint: STRSLICE, Shell: STRSLICE }, HealthConfig: { Test: STRSLICE } },
      goErrors: { root, enums: Object.keys(ENUM_CHECKS), formats: GO_FORMATS },
    });
  }
  return out;
}

let loaded: Record<SpecVersion, Record<BodyKind, JsonSchema>> | undefined;
/** Run time: the schemas the build wrote, by spec version. */
export function requestBodySchemas(): Record<SpecVersion, Record<BodyKind, JsonSchema>> {
  if (!loaded) {
    const file = new URL(REQUEST_BODIES_SCHEMA_FILE, import.meta.url);
    try {
      loaded = JSON.parse(readFileSync(file, 'utf8')) as Record<SpecVersion, Record<BodyKind, JsonSchema>>;
    } catch (err) {
      throw new Error(`cannot read ${file.pathname} (written by npm run build): ${(err as Error).message}`);
    }
  }
  return loaded;
}

/**
 * Making every body's validator ahead of the first request, one validator a step (the first step
 * also reads the schemas' file): made on first need, they held the event loop of the first
 * `docker create` ~60 ms on an idle host, several times that on a loaded one.
 */
export function warmRequestBodies(compile: (s: JsonSchema) => ValidateFunction): (() => void)[] {
  return (Object.keys(BODY_SPECS) as SpecVersion[]).flatMap((v) => (Object.keys(BODY_KINDS) as BodyKind[]).map((k) => () => { compile(requestBodySchemas()[v][k]); }));
}

const cmp = (a: string, b: string) => {
  const [a1, a2] = a.split('.').map(Number);
  const [b1, b2] = b.split('.').map(Number);
  return a1 - b1 || a2 - b2;
};
/** The spec a request at `apiVersion` is checked against. */
export function specFor(apiVersion: string): SpecVersion {
  const versions = (Object.keys(BODY_SPECS) as SpecVersion[]).sort(cmp);
  return versions.find((v) => cmp(apiVersion, v) <= 0) ?? versions[versions.length - 1];
}

const jsonKind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'boolean' ? 'bool' : typeof v);

/** Follows an instance path through the schema: the field names Go reports, and the schemas passed. */
function locate(schema: JsonSchema, instancePath: string): { fields: string[]; nodes: JsonSchema[] } {
  const fields: string[] = [];
  const nodes: JsonSchema[] = [schema];
  let at: JsonSchema | undefined = schema;
  for (const raw of instancePath.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const props = at?.properties as Record<string, JsonSchema> | undefined;
    if (props && seg in props) {
      fields.push(seg);
      at = props[seg];
    } else if (at?.items && /^\d+$/.test(seg)) at = at.items as JsonSchema;
    else at = (at?.additionalProperties as JsonSchema | undefined) ?? undefined;
    if (!at) break;
    nodes.push(at);
  }
  return { fields, nodes };
}

function valueAt(body: unknown, instancePath: string): unknown {
  let v: any = body;
  for (const raw of instancePath.split('/').slice(1)) v = v?.[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  return v;
}

/** One ajv error as dockerd words it. */
function describe(kind: BodyKind, schema: JsonSchema, body: unknown, e: ErrorObject): string {
  const { fields, nodes } = locate(schema, e.instancePath);
  const leaf = nodes[nodes.length - 1];
  // The Go struct field that holds the value: the last property on the way.
  const owner = [...nodes].reverse().find((n) => n['x-go-struct']);
  const struct = (owner?.['x-go-struct'] as string | undefined) ?? BODY_KINDS[kind].root;
  const value = valueAt(body, e.instancePath);
  const field = fields.join('.');
  const strslice = nodes.find((n) => n['x-go-strslice']);
  if (strslice) return `json: cannot unmarshal ${jsonKind(valueAt(body, e.instancePath.replace(/\/\d+$/, '')))} into Go struct field ${struct}.${field} of type string`;
  if (e.keyword === 'type' || e.keyword === 'minimum' || e.keyword === 'maximum') {
    const goType = String(leaf['x-go-type'] ?? 'interface {}');
    const isNumber = typeof value === 'number';
    // A number that is no integer, or out of the Go type's range, is named with its text.
    const what = isNumber && /int/.test(goType) ? `number ${String(value)}` : jsonKind(value);
    return `json: cannot unmarshal ${what} into Go struct field ${struct}.${field} of type ${goType.replace(/^struct$/, 'struct')}`;
  }
  if (e.keyword === 'enum') {
    const key = leaf['x-enum-key'] as string | undefined;
    return key && ENUM_CHECKS[key] ? ENUM_CHECKS[key](String(value), field) : `${field}: invalid value ${JSON.stringify(value)}: must be one of ${(e.params.allowedValues as unknown[]).filter(Boolean).join(', ')}`;
  }
  return `${field || '(body)'}: ${e.message ?? 'is invalid'}`;
}

/**
 * Checks a body against the spec of the request's version. Returns dockerd's messages: the first
 * decoding error alone (Go stops there), else every failed enum check at once (as 1.44 does).
 */
export function checkRequestBody(compile: (s: JsonSchema) => ValidateFunction, kind: BodyKind, apiVersion: string, body: unknown): string[] {
  if (body === undefined || body === null) return [];
  if (typeof body !== 'object' || Array.isArray(body)) {
    return [`json: cannot unmarshal ${jsonKind(body)} into Go value of type ${BODY_KINDS[kind].root}`];
  }
  const schema = requestBodySchemas()[specFor(apiVersion)][kind];
  const validate = compile(schema);
  if (validate(body)) return [];
  const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf');
  const decoding = errors.find((e) => e.keyword !== 'enum');
  if (decoding) return [describe(kind, schema, body, decoding)];
  return [...new Set(errors.map((e) => describe(kind, schema, body, e)))];
}
