// Build step: writes ajv standalone validators for the schemas known at build time, so the
// daemon starts without loading ajv (see schema.ts).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { getAjv, schemaKey, type JsonSchema } from './schema.js';

const require = createRequire(import.meta.url);

export function precompileSchemas(schemas: JsonSchema[], outDir: string): number {
  const standalone = (require('ajv/dist/standalone') as { default: (ajv: unknown, fn: unknown) => string }).default;
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const index: Record<string, string> = {};
  for (const schema of schemas) {
    const key = schemaKey(schema);
    if (index[key]) continue;
    const code = standalone(getAjv(), getAjv().compile(structuredClone(schema)));
    writeFileSync(join(outDir, `${key}.cjs`), code);
    index[key] = `${key}.cjs`;
  }
  writeFileSync(join(outDir, 'index.json'), JSON.stringify(index, null, 1) + '\n');
  return Object.keys(index).length;
}
