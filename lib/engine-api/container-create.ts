// The body of POST /containers/create (ContainerConfig with HostConfig and NetworkingConfig), as
// dockerd decodes it. The build converts the Engine API spec next to this file into
// container-create.schema.json beside the compiled module (bin/build-assets.mjs): the spec is the
// only copy, nothing here repeats its fields.
import { readFileSync } from 'node:fs';
import { goDecodeSchema, STRSLICE, type JsonSchema, type Swagger } from './go-decode-schema.js';

export const ENGINE_API_SPEC = 'swagger-v1.44.yaml';
export const CONTAINER_CREATE_SCHEMA_FILE = 'container-create.schema.json';

/** Build time: the create body's schema from the parsed spec. */
export function containerCreateSchemaFromSpec(swagger: Swagger): JsonSchema {
  const body = swagger.paths['/containers/create']?.post?.parameters?.find((p) => p.in === 'body')?.schema;
  if (!body) throw new Error(`${ENGINE_API_SPEC}: POST /containers/create has no body schema`);
  return goDecodeSchema(swagger, body, {
    // Cmd, Entrypoint and Shell are strslice.StrSlice in dockerd; Healthcheck.Test takes the same two shapes here.
    overrides: { ContainerConfig: { Cmd: STRSLICE, Entrypoint: STRSLICE, Shell: STRSLICE }, HealthConfig: { Test: STRSLICE } },
  });
}

let loaded: JsonSchema | undefined;
/** Run time: the schema the build wrote. */
export function containerCreateSchema(): JsonSchema {
  if (!loaded) {
    const file = new URL(CONTAINER_CREATE_SCHEMA_FILE, import.meta.url);
    try {
      loaded = JSON.parse(readFileSync(file, 'utf8')) as JsonSchema;
    } catch (err) {
      throw new Error(`cannot read ${file.pathname} (written by npm run build): ${(err as Error).message}`);
    }
  }
  return loaded;
}
