// Build step: the JSON Schema of a request body, taken from the Engine API's swagger definitions
// and made to accept what dockerd's Go decoder (encoding/json) accepts, no more and no less:
// - any value may be null (Go leaves the field at its zero value);
// - unknown properties are allowed (Go ignores them);
// - only types are checked: Go does not look at enum, minimum, pattern or required when it decodes
//   (the CLI sends "Isolation": "" and "MemorySwappiness": -1, outside the spec's enum and range);
// - a strslice field (Cmd, Entrypoint, Shell) is a string or a list of strings.
// Descriptions, examples and defaults are dropped: defaults would be filled in by the validator.

export type Swagger = { definitions: Record<string, SwaggerSchema>; paths: Record<string, Record<string, SwaggerOperation>> };
export type SwaggerOperation = { parameters?: { in: string; schema?: SwaggerSchema }[] };
export type SwaggerSchema = {
  $ref?: string;
  allOf?: SwaggerSchema[];
  type?: string;
  properties?: Record<string, SwaggerSchema>;
  additionalProperties?: SwaggerSchema | boolean;
  items?: SwaggerSchema;
};
export type JsonSchema = Record<string, unknown>;

const SCALARS = new Set(['string', 'integer', 'number', 'boolean']);

/** dockerd's strslice.StrSlice: a JSON string means a list of that one string. */
export const STRSLICE: JsonSchema = { type: ['array', 'string', 'null'], items: { type: ['string', 'null'] } };

export interface ConvertOptions {
  /** Fields that take another shape than the spec says, by definition name then property name. */
  overrides?: Record<string, Record<string, JsonSchema>>;
}

/** The schema of `root` (a swagger schema, usually with $refs into definitions), as Go decodes it. */
export function goDecodeSchema(swagger: Swagger, root: SwaggerSchema, opts: ConvertOptions = {}): JsonSchema {
  const overrides = opts.overrides ?? {};

  const convert = (s: SwaggerSchema, defName: string | undefined, stack: string[]): JsonSchema => {
    if (s.$ref) {
      const name = s.$ref.replace(/^#\/definitions\//, '');
      const def = swagger.definitions[name];
      if (!def) throw new Error(`swagger: ${s.$ref} is not defined`);
      // A recursive definition is accepted as it stands below the first level.
      return stack.includes(name) ? {} : convert(def, name, [...stack, name]);
    }
    if (s.allOf) {
      const parts = s.allOf.map((p) => convert(p, p.$ref ? undefined : defName, stack));
      const properties = Object.assign({}, ...parts.map((p) => p.properties ?? {})) as Record<string, JsonSchema>;
      return { type: ['object', 'null'], ...(Object.keys(properties).length ? { properties } : {}) };
    }
    const type = s.type ?? (s.properties || s.additionalProperties ? 'object' : undefined);
    if (type === 'object') {
      const out: JsonSchema = { type: ['object', 'null'] };
      if (s.properties) {
        const own = (defName && overrides[defName]) || {};
        out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, own[k] ?? convert(v, undefined, stack)]));
      }
      // A map (additionalProperties with a schema): every value is checked; a struct ignores extras.
      if (s.additionalProperties && typeof s.additionalProperties === 'object') {
        out.additionalProperties = convert(s.additionalProperties, undefined, stack);
      }
      return out;
    }
    if (type === 'array') return { type: ['array', 'null'], ...(s.items ? { items: convert(s.items, undefined, stack) } : {}) };
    if (type && SCALARS.has(type)) return { type: [type, 'null'] };
    return {};
  };

  return convert(root, undefined, []);
}
