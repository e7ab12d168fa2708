// One JSON Schema validator for the whole daemon: manifests, plugin configuration, job payloads.
// The schemas known at build time (manifest, core and built-in plugin config) are compiled then,
// with ajv's standalone code: ajv itself (about 100 ms of start-up) loads only when a schema
// arrives that the build did not see, such as a third-party plugin's config or a job payload.
// Job payloads are compiled off the main thread (schema-worker.ts, compileSchemaOffThread).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
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
 * A short key for a schema's JSON text: its SHA-256 (the first 64 bits) and length. Native
 * hashing: start-up keys some forty schemas, and a hash loop in JavaScript, still cold then, took
 * several milliseconds of it.
 */
export function schemaKey(schema: JsonSchema): string {
  const text = JSON.stringify(schema);
  return `${createHash('sha256').update(text).digest('hex').slice(0, 16)}-${text.length}`;
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

/** The validator of a schema seen before or precompiled at build time; undefined if ajv is needed. */
function readyValidator(schema: JsonSchema): ValidateFunction | undefined {
  let fn = cache.get(schema);
  if (!fn) {
    fn = precompiled(schema);
    if (fn) cache.set(schema, fn);
  }
  return fn;
}

export function compileSchema(schema: JsonSchema): ValidateFunction {
  let fn = readyValidator(schema);
  if (!fn) {
    fn = getAjv().compile(schema);
    cache.set(schema, fn);
  }
  return fn;
}

// The compiler thread: started on demand, ended soon once idle (it holds ajv, ~15 MB, and a few
// descriptors). Payload schemas are met within a job kind's first uses, nearly all early on.
const WORKER_IDLE_MS = 2_000;
let compiler: Worker | undefined;
let idleTimer: NodeJS.Timeout | undefined;
let nextRequest = 1;
const waiting = new Map<number, { resolve: (code: string) => void; reject: (err: Error) => void }>();
const compiling = new WeakMap<object, Promise<ValidateFunction>>();

function failAll(err: Error): void {
  for (const w of waiting.values()) w.reject(err);
  waiting.clear();
}

function compilerThread(): Worker {
  if (compiler) return compiler;
  const w = new Worker(new URL('./schema-worker.js', import.meta.url));
  w.unref();
  w.on('message', ({ id, code, error }: { id: number; code?: string; error?: string }) => {
    const entry = waiting.get(id);
    waiting.delete(id);
    if (error !== undefined) entry?.reject(new Error(error));
    else entry?.resolve(code!);
    if (waiting.size === 0) {
      idleTimer = setTimeout(() => {
        // Forgotten before it ends: a request from now on starts a new thread, never one ending.
        compiler = undefined;
        void w.terminate();
      }, WORKER_IDLE_MS).unref();
    }
  });
  // Only the current thread's failure fails the requests waiting (an idle one ended has none).
  w.on('error', (err) => { if (compiler === w) failAll(err); });
  w.on('exit', () => {
    if (compiler !== w) return;
    compiler = undefined;
    failAll(new Error('the schema compiler thread stopped'));
  });
  return (compiler = w);
}

function standaloneCode(schema: JsonSchema): Promise<string> {
  clearTimeout(idleTimer);
  const id = nextRequest++;
  const answer = new Promise<string>((resolve, reject) => waiting.set(id, { resolve, reject }));
  compilerThread().postMessage({ id, schema });
  return answer;
}

/** Evaluates ajv's standalone code (a CommonJS module requiring ajv's small runtime helpers). */
function fromStandalone(code: string): ValidateFunction {
  const module = { exports: {} as { default?: ValidateFunction } };
  // eslint-disable-next-line no-new-func
  new Function('require', 'module', 'exports', code)(require, module, module.exports);
  return (module.exports.default ?? module.exports) as ValidateFunction;
}

/**
 * compileSchema without blocking the event loop: a schema that is neither cached nor precompiled
 * is compiled in the compiler thread. If that thread cannot run, the main thread compiles it.
 */
export function compileSchemaOffThread(schema: JsonSchema): Promise<ValidateFunction> {
  const ready = readyValidator(schema);
  if (ready) return Promise.resolve(ready);
  let pending = compiling.get(schema);
  if (!pending) {
    pending = standaloneCode(schema).then(fromStandalone, () => getAjv().compile(schema)).then((fn) => {
      cache.set(schema, fn);
      compiling.delete(schema);
      return fn;
    });
    compiling.set(schema, pending);
  }
  return pending;
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

function problems(fn: ValidateFunction, data: unknown, root: string): string[] {
  if (fn(data)) return [];
  return (fn.errors ?? []).map((e) => describeError(e, root));
}

/** Validates data in place (defaults applied) and returns the problems, empty when valid. */
export function validate(schema: JsonSchema, data: unknown, root = ''): string[] {
  return problems(compileSchema(schema), data, root);
}

/** validate, with a schema not yet compiled compiled off the main thread (job payloads). */
export async function validateOffThread(schema: JsonSchema, data: unknown, root = ''): Promise<string[]> {
  return problems(readyValidator(schema) ?? (await compileSchemaOffThread(schema)), data, root);
}
