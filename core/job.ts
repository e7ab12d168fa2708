// A job: the unit of work the engine schedules. Typed payload, streams, status and error.
import { PassThrough, type Readable } from 'node:stream';
import type { Logger } from 'pino';

/** Where a job came from; authorization and audit read this. */
export type JobOrigin =
  | { kind: 'internal'; caller: string }
  | { kind: 'http'; method: string; uri: string; headers: Record<string, string | string[] | undefined>; user?: string };

/** A state change the job made, published as a Docker event when the job succeeds. */
export interface JobEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope?: 'local' | 'swarm';
}

export interface JobOptions {
  args?: string[];
  stdin?: Readable;
  origin?: JobOrigin;
  /** The caller's own cancellation (a client that went away); combined with the daemon's. */
  signal?: AbortSignal;
}

export interface JobRunner {
  runJob<P, R>(job: Job<P, R>): Promise<R>;
}

let nextId = 1;

export class Job<P = unknown, R = unknown> {
  readonly id = String(nextId++);
  readonly name: string;
  args: string[];
  payload: P;
  readonly stdin: Readable | undefined;
  readonly origin: JobOrigin;
  /** Aborted when the daemon begins shutting down: long-running jobs (streams) end early. */
  readonly signal: AbortSignal;
  /** 0 success, 1 failure; undefined until the job finished. */
  status: number | undefined;
  error: Error | undefined;
  result: R | undefined;
  startedAt = 0;
  durationMs = 0;
  readonly events: JobEvent[] = [];
  private out: PassThrough | undefined;
  private markBegun!: () => void;
  /**
   * Resolves when a streaming handler has checked its input and starts to output: until then a
   * failure can still be reported with a status code instead of inside the stream.
   */
  readonly begun = new Promise<void>((resolve) => { this.markBegun = resolve; });
  private err: PassThrough | undefined;
  private readonly runner: JobRunner;
  private readonly baseLog: Logger;
  private childLog: Logger | undefined;

  constructor(runner: JobRunner, log: Logger, signal: AbortSignal, name: string, payload: P, opts: JobOptions = {}) {
    this.runner = runner;
    this.baseLog = log;
    this.signal = opts.signal ? AbortSignal.any([signal, opts.signal]) : signal;
    this.name = name;
    this.payload = payload;
    this.args = opts.args ?? [];
    this.stdin = opts.stdin;
    this.origin = opts.origin ?? { kind: 'internal', caller: 'core' };
  }

  // Streams and the child logger are made on first use: most jobs never touch them.
  get stdout(): PassThrough { return (this.out ??= new PassThrough()); }
  get stderr(): PassThrough { return (this.err ??= new PassThrough()); }
  get log(): Logger { return (this.childLog ??= this.baseLog.child({ job: this.name, jobId: this.id })); }

  /** Records a state change; published as an event only if the job succeeds. */
  emit(event: JobEvent): void {
    this.events.push(event);
  }

  /** Called by a streaming handler once its input is valid (see `begun`). */
  begin(): void {
    this.markBegun();
  }

  run(): Promise<R> {
    return this.runner.runJob(this);
  }

  /** Ends the streams a handler opened, so readers see EOF when the job is over. */
  closeStreams(): void {
    this.out?.end();
    this.err?.end();
  }
}
