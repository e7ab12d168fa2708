// The engine: a table of named handlers and the one place every job runs through.
import type { Logger } from 'pino';
import { BerthError, invalid, messageOf, notFound, unavailable } from './errors.js';
import type { HandlerEntry, HandlerSpec } from './handler.js';
import type { CoreHooks } from './hooks.js';
import { Job, type JobOptions } from './job.js';
import { validateOffThread } from './schema.js';

export interface CommandInfo {
  name: string;
  plugin: string;
  description: string;
  /** Whether the handler declares the JSON Schema of its payload. */
  schema: boolean;
}

/** The schema of a job that takes no payload (an absent payload is checked as {}). */
export const NO_PAYLOAD = { type: 'object', additionalProperties: false };

export class Engine {
  private readonly handlers = new Map<string, HandlerEntry>();
  private catchAll: HandlerEntry;
  private readonly inflight = new Set<Job<any, any>>();
  private readonly stopping = new AbortController();
  private drained: (() => void) | undefined;

  constructor(private readonly hooks: CoreHooks, private readonly log: Logger) {
    this.catchAll = {
      name: '*',
      plugin: 'core',
      spec: { run: (job) => { throw notFound(`no such job: ${job.name}`); } },
    };
    this.register('commands', {
      description: 'lists the registered job handlers',
      schema: NO_PAYLOAD,
      run: (): CommandInfo[] => this.list(),
    });
  }

  /** Registers a handler; a name already taken is an error (use wrap to decorate one). */
  register<P, R>(name: string, spec: HandlerSpec<P, R>, plugin = 'core'): void {
    const existing = this.handlers.get(name);
    if (existing) {
      throw new BerthError('E_CONFLICT', `handler ${name} is already registered by ${existing.plugin}; ${plugin} must wrap it explicitly`);
    }
    this.install({ name, plugin, spec });
  }

  /** Replaces a handler with one built from it: the explicit way to decorate another plugin's job. */
  wrap(name: string, wrapper: (previous: HandlerSpec) => HandlerSpec, plugin = 'core'): void {
    const existing = this.handlers.get(name);
    if (!existing) throw notFound(`cannot wrap handler ${name}: it is not registered`);
    this.install({ name, plugin, spec: wrapper(existing.spec) });
  }

  /** The handler for jobs whose name nobody registered. */
  setCatchAll(spec: HandlerSpec, plugin = 'core'): void {
    this.catchAll = { name: '*', plugin, spec };
  }

  private install(entry: HandlerEntry): void {
    const final = this.hooks.registerHandler.call(entry);
    this.handlers.set(entry.name, { ...final, name: entry.name });
  }

  has(name: string): boolean {
    return this.handlers.has(name);
  }

  list(): CommandInfo[] {
    return [...this.handlers.values()]
      .map((h) => ({ name: h.name, plugin: h.plugin, description: h.spec.description ?? '', schema: Boolean(h.spec.schema) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  job<P = unknown, R = unknown>(name: string, payload?: P, opts?: JobOptions): Job<P, R> {
    return new Job<P, R>(this, this.log, this.stopping.signal, name, payload as P, opts);
  }

  /** Shorthand: make a job and run it. */
  run<R = unknown, P = unknown>(name: string, payload?: P, opts?: JobOptions): Promise<R> {
    return this.job<P, R>(name, payload, opts).run();
  }

  async runJob<P, R>(job: Job<P, R>): Promise<R> {
    if (this.stopping.signal.aborted) throw unavailable(`daemon is shutting down: job ${job.name} refused`);
    this.inflight.add(job);
    job.startedAt = performance.now();
    const debug = this.log.isLevelEnabled('debug');
    if (debug) job.log.debug({ args: job.args }, `+job ${job.name}`);
    try {
      await this.hooks.jobRun.before.promise(job);
      const entry = this.handlers.get(job.name) ?? this.catchAll;
      if (entry.spec.schema) {
        // A job run without a payload is checked as an empty one: required fields are named.
        const problems = await validateOffThread(entry.spec.schema, job.payload ?? {}, job.name);
        if (problems.length) throw invalid(`invalid payload for job ${job.name}: ${problems.join('; ')}`);
      }
      job.result = await entry.spec.run(job);
      job.status = 0;
      return job.result as R;
    } catch (err) {
      job.status = 1;
      job.error = err instanceof Error ? err : new Error(messageOf(err));
      await this.hooks.jobRun.error.promise(job, job.error);
      throw job.error;
    } finally {
      job.durationMs = performance.now() - job.startedAt;
      job.closeStreams();
      if (debug) job.log.debug({ status: job.status, ms: job.durationMs }, `-job ${job.name} ${job.status === 0 ? 'OK' : 'ERR'}`);
      await this.hooks.jobRun.after.promise(job);
      this.inflight.delete(job);
      if (this.inflight.size === 0) this.drained?.();
    }
  }

  get shuttingDown(): boolean {
    return this.stopping.signal.aborted;
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  /** Refuses new jobs and tells running ones (through job.signal) to finish. */
  beginShutdown(): void {
    this.stopping.abort();
  }

  /** Resolves when no job runs any more, or when the signal aborts (deadline). */
  drain(signal: AbortSignal): Promise<void> {
    if (this.inflight.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.drained = resolve;
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }
}
