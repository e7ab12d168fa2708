// One JSON Schema validator for the whole daemon: manifests, plugin configuration, job payloads.
// The schemas known at build time (manifest, core and built-in plugin config) are compiled then,
// with ajv's standalone code: ajv itself (about 100 ms of start-up) loads only when a schema
// arrives that the build did not see, such as a third-party plugin's config or a job payload.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Ajv, ErrorObject, Options, ValidateFunction } from 'ajv';

export type JsonSchema = Record<string, unknown>;

// strict:false because third-party schemas may carry annotations ajv does not know;
// useDefaults fills declared defaults so plugins see complete configuration.
export const AJV_OPTIONS: Options = { allErrors: true, useDefaults: true, strict: false };

const require = createRequire(import.meta.url);
const PRECOMPILED_DIR = new URL('../schemas/', import.meta.url);

let ajv: Ajv | undefined;
export function getAjv(): Ajv {
  if (!ajv) {
    const AjvClass = (require('ajv') as { default: new (o: Options) => Ajv }).default;
    ajv = new AjvClass({ ...AJV_OPTIONS, code: { source: true } });
  }
  return ajv;
}

/**
 * A short key for a schema's JSON text: two 32-bit FNV-1a hashes (different offsets) and the
 * length. No crypto module at start-up, and no BigInt: the configuration schema is tens of KB and
 * is keyed at every start.
 */
export function schemaKey(schema: JsonSchema): string {
  const text = JSON.stringify(schema);
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193);
  }
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
  return `${hex(a)}${hex(b)}-${text.length}`;
}

// The start-up snapshot carries the precompiled validators, keyed as in index.json.
const SNAPSHOT_VALIDATORS = Symbol.for('berth.precompiledSchemas');

let index: Record<string, string> | undefined;
function precompiled(schema: JsonSchema): ValidateFunction | undefined {
  const key = schemaKey(schema);
  const carried = (globalThis as unknown as Record<symbol, Map<string, ValidateFunction> | undefined>)[SNAPSHOT_VALIDATORS]?.get(key);
  if (carried) return carried;
  if (!index) {
    try {
      index = JSON.parse(readFileSync(new URL('index.json', PRECOMPILED_DIR), 'utf8')) as Record<string, string>;
    } catch {
      index = {};
    }
  }
  const file = index[key];
  return file ? (require(new URL(file, PRECOMPILED_DIR).pathname) as ValidateFunction) : undefined;
}

const cache = new WeakMap<object, ValidateFunction>();

export function compileSchema(schema: JsonSchema): ValidateFunction {
  let fn = cache.get(schema);
  if (!fn) {
    fn = precompiled(schema) ?? getAjv().compile(schema);
    cache.set(schema, fn);
  }
  return fn;
}

/** Renders one ajv error as "field: problem", naming the field the way a user wrote it. */
export function describeError(e: ErrorObject, root = ''): string {
  const path = e.instancePath.split('/').filter(Boolean);
  const base = [root, ...path].filter(Boolean).join('.');
  const field = (name: string) => [base, name].filter(Boolean).join('.');
  switch (e.keyword) {
    case 'additionalProperties':
      return `${field(String(e.params.additionalProperty))}: unknown key`;
    case 'required':
      return `${field(String(e.params.missingProperty))}: is required`;
    case 'enum':
      return `${base || '(root)'}: must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${base || '(root)'}: ${e.message ?? 'is invalid'}`;
  }
}

/** Validates data in place (defaults applied) and returns the problems, empty when valid. */
export function validate(schema: JsonSchema, data: unknown, root = ''): string[] {
  const fn = compileSchema(schema);
  if (fn(data)) return [];
  return (fn.errors ?? []).map((e) => describeError(e, root));
}
