// A container's healthcheck settings as dockerd reads them: the defaults, the create-time checks,
// the probe's command line, and durations printed as Go prints them ("1s", "1m30s").
import { invalid } from '../../../core/plugin-api.js';
import type { HealthConfig } from '../../image-store/index.js';

const SECOND = 1e9;
export const HEALTH_DEFAULTS = { interval: 30 * SECOND, timeout: 30 * SECOND, startPeriod: 0, startInterval: 5 * SECOND, retries: 3 };
/** Results kept in State.Health.Log, and the bytes of output kept per result. */
export const MAX_LOG_ENTRIES = 5;
export const MAX_OUTPUT_LEN = 4096;
const MINIMUM_DURATION = 1e6; // 1ms

/** Create-time checks, with dockerd's messages (400). */
export function validateHealthcheck(h: HealthConfig | null | undefined): void {
  if (!h) return;
  const tooShort = (name: string, ns: number | undefined) => {
    if (ns && ns < MINIMUM_DURATION) throw invalid(`${name} in Healthcheck cannot be less than 1ms`);
  };
  tooShort('Interval', h.Interval);
  tooShort('Timeout', h.Timeout);
  if ((h.Retries ?? 0) < 0) throw invalid('Retries in Healthcheck cannot be negative');
  tooShort('StartPeriod', h.StartPeriod);
  tooShort('StartInterval', h.StartInterval);
}

/** The probe's argv, or undefined when there is no probe (no healthcheck, NONE, an unknown type). */
export function probeCommand(h: HealthConfig | null | undefined, shell: string[] | null | undefined): string[] | undefined {
  const test = h?.Test ?? [];
  if (test[0] === 'CMD' && test.length > 1) return test.slice(1);
  if (test[0] === 'CMD-SHELL' && test.length > 1) return [...(shell?.length ? shell : ['/bin/sh', '-c']), ...test.slice(1)];
  return undefined;
}

/** Interval, timeout and the rest in milliseconds, defaults applied for zero values. */
export function healthTimings(h: HealthConfig) {
  const ms = (ns: number | undefined, dflt: number) => (ns || dflt) / 1e6;
  return {
    interval: ms(h.Interval, HEALTH_DEFAULTS.interval),
    timeout: ms(h.Timeout, HEALTH_DEFAULTS.timeout),
    startPeriod: ms(h.StartPeriod, HEALTH_DEFAULTS.startPeriod),
    startInterval: ms(h.StartInterval, HEALTH_DEFAULTS.startInterval),
    retries: h.Retries && h.Retries > 0 ? h.Retries : HEALTH_DEFAULTS.retries,
  };
}

/** A duration in milliseconds as Go's time.Duration prints it. */
export function goDuration(ms: number): string {
  const ns = Math.round(ms * 1e6);
  const num = (x: number) => String(Number(x.toFixed(9)));
  if (ns === 0) return '0s';
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${num(ns / 1e3)}µs`;
  if (ns < SECOND) return `${num(ns / 1e6)}ms`;
  const h = Math.floor(ns / (3600 * SECOND));
  const m = Math.floor((ns % (3600 * SECOND)) / (60 * SECOND));
  const s = `${num((ns % (60 * SECOND)) / SECOND)}s`;
  return h ? `${h}h${m}m${s}` : m ? `${m}m${s}` : s;
}
