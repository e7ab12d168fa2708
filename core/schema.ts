// One ajv instance for the whole daemon: manifests, plugin configuration and job payloads.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

export type JsonSchema = Record<string, unknown>;

// strict:false because third-party schemas may carry annotations ajv does not know;
// useDefaults fills declared defaults so plugins see complete configuration.
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });

const cache = new WeakMap<object, ValidateFunction>();

export function compileSchema(schema: JsonSchema): ValidateFunction {
  let fn = cache.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
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
