// A worker thread that turns JSON schemas into ajv's standalone validator code for core/schema.ts.
// Loading ajv and generating a validator on the main thread blocked every client for 60-110 ms at
// the first job of each kind whose schema the build had not precompiled (docker ps, start, rm...).
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';
import type { Ajv, Options } from 'ajv';
import { AJV_OPTIONS, type JsonSchema } from './schema.js';

const require = createRequire(import.meta.url);
let ajv: Ajv | undefined;
let standalone: ((ajv: Ajv, fn: unknown) => string) | undefined;

parentPort?.on('message', ({ id, schema }: { id: number; schema: JsonSchema }) => {
  try {
    ajv ??= new (require('ajv') as { default: new (o: Options) => Ajv }).default({ ...AJV_OPTIONS, code: { source: true } });
    standalone ??= (require('ajv/dist/standalone') as { default: (ajv: Ajv, fn: unknown) => string }).default;
    parentPort!.postMessage({ id, code: standalone(ajv, ajv.compile(schema)) });
  } catch (err) {
    parentPort!.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
});
