// Every core extension point, declared in one place (as webpack declares a compiler's hooks).
// Plugins receive tap-only facades: they can tap, never call.
import { AsyncParallelHook, AsyncSeriesHook, SyncWaterfallHook } from 'tapable';
import type { Logger } from 'pino';
import type { HandlerEntry } from './handler.js';
import type { Job } from './job.js';

export interface ReloadEvent {
  /** daemon.json keys whose value changed and that their owners declared reloadable. */
  changed: Record<string, unknown>;
}

export interface ShutdownContext {
  /** Aborted when the shutdown deadline passes: stop waiting and release what you hold. */
  signal: AbortSignal;
  deadline: number;
}

export function createCoreHooks() {
  return {
    /** A handler is being registered: a tap may wrap it (return a new entry) or throw to reject it. */
    registerHandler: new SyncWaterfallHook<[HandlerEntry]>(['entry']),
    jobRun: {
      /** Before a job's handler: may change the job (payload, args) or throw to veto it. */
      before: new AsyncSeriesHook<[Job]>(['job']),
      /** After a handler finished: sees status, duration and error. Errors here are logged, never fail the job. */
      after: new AsyncSeriesHook<[Job]>(['job']),
      /** A job failed (vetoed, invalid payload, handler error). */
      error: new AsyncSeriesHook<[Job, Error]>(['job', 'error']),
    },
    /** Every plugin is initialised: restore state (containers, networks) before the API answers. */
    ready: new AsyncSeriesHook<[]>([]),
    /** SIGHUP applied a valid new configuration: apply the reloadable keys you own. */
    reload: new AsyncSeriesHook<[ReloadEvent]>(['event']),
    /** Graceful shutdown: every plugin's cleanup, in parallel, under one deadline. */
    shutdown: new AsyncParallelHook<[ShutdownContext]>(['context']),
  };
}

export type CoreHooks = ReturnType<typeof createCoreHooks>;

type Tappable = {
  tap: (...a: any[]) => void;
  tapAsync?: (...a: any[]) => void;
  tapPromise?: (...a: any[]) => void;
};

/** A facade that can only tap; tap names are prefixed with the plugin's name for tracing. */
export interface TapFacade<H extends Tappable> {
  tap: H['tap'];
  tapPromise: NonNullable<H['tapPromise']>;
}

function facade<H extends Tappable>(hook: H, plugin: string): TapFacade<H> {
  const name = (opt: string | { name: string }) =>
    typeof opt === 'string' ? `${plugin}:${opt}` : { ...opt, name: `${plugin}:${opt.name}` };
  return {
    tap: ((opt: any, fn: any) => hook.tap(name(opt), fn)) as H['tap'],
    tapPromise: ((opt: any, fn: any) => hook.tapPromise!(name(opt), fn)) as NonNullable<H['tapPromise']>,
  };
}

export function hookFacades(hooks: CoreHooks, plugin: string) {
  return {
    registerHandler: facade(hooks.registerHandler, plugin),
    jobRun: {
      before: facade(hooks.jobRun.before, plugin),
      after: facade(hooks.jobRun.after, plugin),
      error: facade(hooks.jobRun.error, plugin),
    },
    ready: facade(hooks.ready, plugin),
    reload: facade(hooks.reload, plugin),
    shutdown: facade(hooks.shutdown, plugin),
  };
}

export type HookFacades = ReturnType<typeof hookFacades>;

/**
 * Makes each tap of an async hook fail alone: its error is logged and the others still run.
 * Used where one plugin's failure must not stop the rest (after-job observers, shutdown).
 */
export function isolateTaps(hook: { intercept: (i: any) => void }, log: Logger, what: string): void {
  hook.intercept({
    register(tap: { type: string; name: string; fn: (...a: any[]) => any }) {
      const fn = tap.fn;
      const report = (err: unknown) => log.error({ err, tap: tap.name }, `${what} tap failed`);
      if (tap.type === 'promise') {
        return { ...tap, fn: (...a: any[]) => Promise.resolve().then(() => fn(...a)).catch(report) };
      }
      if (tap.type === 'async') {
        return {
          ...tap,
          fn: (...a: any[]) => {
            const cb = a.pop();
            try {
              fn(...a, (err: unknown) => { if (err) report(err); cb(); });
            } catch (err) { report(err); cb(); }
          },
        };
      }
      return { ...tap, fn: (...a: any[]) => { try { return fn(...a); } catch (err) { report(err); } } };
    },
  });
}
