// The one polling loop of the tests and the bench: a probe asked again and again, bounded both in
// tries and in time, and an error that says what was awaited, how long, and what the probe last saw.
import { AssertionError } from 'node:assert';
import { setTimeout as sleep } from 'node:timers/promises';

export interface PollOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Pause between tries (default 50 ms). */
  intervalMs?: number;
  /** Give up after this many tries (default: as many as fit in timeoutMs, plus one). */
  maxTries?: number;
  /** Asked before each try: a reason to stop at once (the daemon exited) instead of waiting out the time. */
  giveUp?: () => string | undefined;
  /** Added to the error: what helps to see why (the daemon's last log lines). */
  detail?: () => string;
}

/** What a probe returns when it is not there yet: any falsy value. */
type NotYet = false | null | undefined | 0 | '';

/**
 * Calls probe until it returns a truthy value, and resolves with that; resolves with undefined
 * once out of tries or time. A probe that throws counts as not yet (a socket that does not listen
 * yet; its last error goes into waitFor's message), except with an AssertionError: a check inside
 * the probe (or docker() meeting an unexpected exit) fails the test at once.
 */
export async function poll<T>(probe: () => T | NotYet | Promise<T | NotYet>, opts: PollOptions = {}): Promise<Exclude<T, NotYet> | undefined> {
  return (await attempt(probe, opts)).value;
}

/** poll, but a timeout or a giveUp reason throws an Error naming `what`. */
export async function waitFor<T>(what: string, probe: () => T | NotYet | Promise<T | NotYet>, opts: PollOptions = {}): Promise<Exclude<T, NotYet>> {
  const r = await attempt(probe, opts);
  if (r.value !== undefined) return r.value;
  const reason = r.gaveUp
    ? `gave up waiting for ${what} after ${r.ms} ms: ${r.gaveUp}`
    : `timed out waiting for ${what}: ${r.tries} tries in ${r.ms} ms`;
  const last = r.error ? `\nlast error: ${r.error.message}` : '';
  const detail = opts.detail ? `\n${opts.detail()}` : '';
  throw new Error(`${reason}${last}${detail}`);
}

interface Attempt<T> {
  value: T | undefined;
  tries: number;
  ms: number;
  gaveUp?: string;
  error?: Error;
}

async function attempt<T>(probe: () => T | NotYet | Promise<T | NotYet>, opts: PollOptions): Promise<Attempt<Exclude<T, NotYet>>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 50;
  const maxTries = opts.maxTries ?? Math.ceil(timeoutMs / Math.max(intervalMs, 1)) + 1;
  const start = performance.now();
  const elapsed = () => Math.round(performance.now() - start);
  let error: Error | undefined;
  for (let tries = 1; ; tries++) {
    const gaveUp = opts.giveUp?.();
    if (gaveUp) return { value: undefined, tries: tries - 1, ms: elapsed(), gaveUp, error };
    try {
      const v = await probe();
      if (v) return { value: v as Exclude<T, NotYet>, tries, ms: elapsed() };
    } catch (err) {
      if (err instanceof AssertionError) throw err;
      error = err instanceof Error ? err : new Error(String(err));
    }
    if (tries >= maxTries || performance.now() - start + intervalMs > timeoutMs) return { value: undefined, tries, ms: elapsed(), error };
    await sleep(intervalMs);
  }
}
