// since/until as the CLI sends them: Unix seconds, optionally with a fraction ("1795321025.5").
import { invalid } from '../../core/plugin-api.js';

/** Parses a Docker timestamp into nanoseconds since the epoch. */
export function parseTimestamp(value: string, name: string): number {
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value.trim());
  if (m) return Number(m[1]) * 1e9 + Number((m[2] ?? '').padEnd(9, '0'));
  const ms = Date.parse(value);
  if (!Number.isNaN(ms)) return ms * 1e6;
  throw invalid(`failed to parse value ${value} of ${name}: not a Unix timestamp or RFC 3339 time`);
}
