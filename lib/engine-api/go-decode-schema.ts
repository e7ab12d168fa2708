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
  format?: string;
  enum?: unknown[];
};
export type JsonSchema = Record<string, unknown>;

const SCALARS = new Set(['string', 'integer', 'number', 'boolean']);

/** dockerd's strslice.StrSlice: a JSON string means a list of that one string. */
export const STRSLICE: JsonSchema = { type: ['array', 'string', 'null'], items: { type: ['string', 'null'] }, 'x-go-type': 'string', 'x-go-strslice': true };

/** The Go integer types by swagger format, with the range encoding/json accepts. */
const GO_INTS: Record<string, [string, number, number]> = {
  int64: ['int64', -9223372036854775808, 9223372036854775807], int32: ['int32', -2147483648, 2147483647],
  uint64: ['uint64', 0, 18446744073709551615], uint32: ['uint32', 0, 4294967295], uint16: ['uint16', 0, 65535], uint8: ['uint8', 0, 255],
  uint: ['uint', 0, 18446744073709551615],
  '': ['int', -9223372036854775808, 9223372036854775807],
};

export interface ConvertOptions {
  /** Fields that take another shape than the spec says, by definition name then property name. */
  overrides?: Record<string, Record<string, JsonSchema>>;
  /**
   * Annotate for error messages as Go words them (x-go-type, x-go-struct), check integer ranges
   * as Go's integer types do, and check these enum fields (definition.property), "" allowed.
   */
  goErrors?: { root: string; enums?: string[]; formats?: Record<string, string> };
}

/** The schema of `root` (a swagger schema, usually with $refs into definitions), as Go decodes it. */
export function goDecodeSchema(swagger: Swagger, root: SwaggerSchema, opts: ConvertOptions = {}): JsonSchema {
  const overrides = opts.overrides ?? {};
  const go = opts.goErrors;
  const enums = new Set(go?.enums ?? []);
  const goType = (s: SwaggerSchema, out: JsonSchema): string => {
    if (s.$ref) return s.$ref.replace(/^#\/definitions\//, '').replace(/^ContainerConfig$/, 'Config');
    const t = s.type ?? (s.properties || s.additionalProperties ? 'object' : '');
    if (t === 'integer') return (GO_INTS[s.format ?? ''] ?? GO_INTS[''])[0];
    if (t === 'number') return 'float64';
    if (t === 'boolean') return 'bool';
    if (t === 'string') return 'string';
    if (t === 'array') return `[]${s.items ? goType(s.items, {}) : 'interface {}'}`;
    if (t === 'object' && out.additionalProperties) return `map[string]${typeof s.additionalProperties === 'object' ? goType(s.additionalProperties, {}) : 'interface {}'}`;
    return 'struct';
  };
  const annotate = (s: SwaggerSchema, out: JsonSchema, struct?: string): JsonSchema => {
    if (!go) return out;
    if (!out['x-go-type']) out['x-go-type'] = goType(s, out);
    if (struct) out['x-go-struct'] = struct;
    return out;
  };

  const convert = (s: SwaggerSchema, defName: string | undefined, stack: string[], path = ''): JsonSchema => {
    if (s.$ref) {
      const name = s.$ref.replace(/^#\/definitions\//, '');
      const def = swagger.definitions[name];
      if (!def) throw new Error(`swagger: ${s.$ref} is not defined`);
      // A recursive definition is accepted as it stands below the first level.
      return stack.includes(name) ? {} : annotate(s, convert(def, name, [...stack, name], path));
    }
    // allOf of one schema is that schema (a field typed by a definition, e.g. Mount.Type: MountType).
    if (s.allOf?.length === 1 && !s.properties) return convert(s.allOf[0], defName, stack, path);
    if (s.allOf) {
      const parts = s.allOf.map((p) => convert(p, p.$ref ? undefined : defName, stack, path));
      const properties = Object.assign({}, ...parts.map((p) => p.properties ?? {})) as Record<string, JsonSchema>;
      return { type: ['object', 'null'], ...(Object.keys(properties).length ? { properties } : {}) };
    }
    const type = s.type ?? (s.properties || s.additionalProperties ? 'object' : undefined);
    if (type === 'object') {
      const out: JsonSchema = { type: ['object', 'null'] };
      if (s.properties) {
        const own = (defName && overrides[defName]) || {};
        const struct = defName ? defName.replace(/^ContainerConfig$/, 'Config') : go?.root;
        out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => {
          const key = defName ? `${defName}.${k}` : `${path}.${k}`;
          // Go's integer type where the spec gives none (BlkioWeight is a uint16, ConsoleSize []uint).
          const format = go?.formats?.[key];
          if (format) v = v.type === 'array' && v.items ? { ...v, items: { ...v.items, format } } : { ...v, format };
          const field = own[k] ? { ...own[k] } : convert(v, undefined, stack, key);
          const ref = v.allOf?.length === 1 ? v.allOf[0].$ref?.replace(/^#\/definitions\//, '') : undefined;
          if (ref && !v.enum && swagger.definitions[ref]?.enum) v = { ...v, enum: swagger.definitions[ref].enum };
          if (go && enums.has(key) && v.enum) Object.assign(field, { enum: [...new Set(['', ...v.enum])].concat(null), 'x-enum-key': key });
          return [k, annotate(v, field, struct)];
        }));
      }
      // A map (additionalProperties with a schema): every value is checked; a struct ignores extras.
      if (s.additionalProperties && typeof s.additionalProperties === 'object') {
        out.additionalProperties = annotate(s.additionalProperties, convert(s.additionalProperties, undefined, stack, path));
      }
      return out;
    }
    if (type === 'array') return { type: ['array', 'null'], ...(s.items ? { items: annotate(s.items, convert(s.items, undefined, stack, path)) } : {}) };
    if (type === 'integer' && go) {
      const [, minimum, maximum] = GO_INTS[s.format ?? ''] ?? GO_INTS[''];
      return { type: ['integer', 'null'], minimum, maximum };
    }
    if (type && SCALARS.has(type)) return { type: [type, 'null'] };
    return {};
  };

  return annotate(root, convert(root, undefined, []), undefined);
}
