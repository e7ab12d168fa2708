// Build step after tsc: copy each plugin's manifest (plugin.json) next to its compiled entry,
// convert the Engine API spec into the container.create payload schema, precompile the schemas
// known now (manifest, core and built-in config, jobs without a payload, container.create), and
// record the commit.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
const { manifestSchema } = await import(join(dist, 'core/plugins/manifest.js'));
const { coreSchema } = await import(join(dist, 'core/config/core-options.js'));
const { sectionSchema } = await import(join(dist, 'core/config/daemon-config.js'));
const { precompileSchemas } = await import(join(dist, 'core/schema-precompile.js'));
const { NO_PAYLOAD } = await import(join(dist, 'core/engine.js'));
const engineApi = await import(join(dist, 'lib/engine-api/container-create.js'));

// The spec is the only copy of ContainerConfig/HostConfig/NetworkingConfig: the schema is generated.
const spec = parseYaml(readFileSync(join(root, 'lib/engine-api', engineApi.ENGINE_API_SPEC), 'utf8'));
writeFileSync(join(dist, 'lib/engine-api', engineApi.CONTAINER_CREATE_SCHEMA_FILE), JSON.stringify(engineApi.containerCreateSchemaFromSpec(spec)) + '\n');
const { createPayloadSchema } = await import(join(dist, 'plugins/container-store/records/create-schema.js'));

// The request bodies the API routes check, by the spec version of the request (lib/engine-api/request-bodies.ts).
const bodies = await import(join(dist, 'lib/engine-api/request-bodies.js'));
const bodySchemas = Object.fromEntries(Object.entries(bodies.BODY_SPECS).map(([version, file]) =>
  [version, bodies.requestBodySchemasFromSpec(parseYaml(readFileSync(join(root, 'lib/engine-api', file), 'utf8')))]));
writeFileSync(join(dist, 'lib/engine-api', bodies.REQUEST_BODIES_SCHEMA_FILE), JSON.stringify(bodySchemas) + '\n');

// NO_PAYLOAD: the schema of every job without a payload, /_ping's among them.
const schemas = [manifestSchema, sectionSchema(coreSchema), NO_PAYLOAD, createPayloadSchema(), ...Object.values(bodySchemas).flatMap((kinds) => Object.values(kinds))];
for (const name of readdirSync(join(root, 'plugins'))) {
  const manifest = join(root, 'plugins', name, 'plugin.json');
  if (!existsSync(manifest)) continue;
  mkdirSync(join(dist, 'plugins', name), { recursive: true });
  cpSync(manifest, join(dist, 'plugins', name, 'plugin.json'));
  const config = JSON.parse(readFileSync(manifest, 'utf8')).config ?? { type: 'object', properties: {} };
  schemas.push(sectionSchema(config));
}
precompileSchemas(schemas, join(dist, 'schemas'));

let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
} catch { /* not a git checkout */ }
writeFileSync(join(dist, 'build-info.json'), JSON.stringify({ commit, buildTime: new Date().toISOString() }) + '\n');
