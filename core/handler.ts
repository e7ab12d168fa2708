import type { JsonSchema } from './schema.js';
import type { Job } from './job.js';

/** What a plugin registers under a job name. */
export interface HandlerSpec<P = any, R = any> {
  run: (job: Job<P, R>) => Promise<R> | R;
  /** JSON Schema of the payload; when present the payload is validated before run. */
  schema?: JsonSchema;
  description?: string;
}

/** A registered handler, as the registerHandler hook sees it. */
export interface HandlerEntry {
  name: string;
  /** The plugin that registered (or last wrapped) it. */
  plugin: string;
  spec: HandlerSpec;
}
