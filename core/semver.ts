// Version checks the core makes at every start. The forms manifests and drivers use (plain
// X.Y.Z versions, caret ranges such as ^1 or ^1.2, and *) are decided here with the semver
// package's rules; anything else loads the package (15-30 ms of start-up) on first need.
// `semver` is the package's own functions, loaded on first call, for plugins (ctx.semver).
import { createRequire } from 'node:module';
import type coerceFn from 'semver/functions/coerce.js';
import type ltFn from 'semver/functions/lt.js';
import type satisfiesFn from 'semver/functions/satisfies.js';
import type validFn from 'semver/functions/valid.js';
import type validRangeFn from 'semver/ranges/valid.js';

const require = createRequire(import.meta.url);

interface SemverFunctions {
  coerce: typeof coerceFn;
  lt: typeof ltFn;
  satisfies: typeof satisfiesFn;
  valid: typeof validFn;
  validRange: typeof validRangeFn;
}

let pkg: SemverFunctions | undefined;
function load(): SemverFunctions {
  // One by one: the package's index loads every function and class it has.
  pkg ??= {
    coerce: require('semver/functions/coerce.js'),
    lt: require('semver/functions/lt.js'),
    satisfies: require('semver/functions/satisfies.js'),
    valid: require('semver/functions/valid.js'),
    validRange: require('semver/ranges/valid.js'),
  };
  return pkg;
}

/** The semver package's functions (loaded on first call). */
export const semver: SemverFunctions = {
  coerce: (...a) => load().coerce(...a),
  lt: (...a) => load().lt(...a),
  satisfies: (...a) => load().satisfies(...a),
  valid: (...a) => load().valid(...a),
  validRange: (...a) => load().validRange(...a),
};

// At most 15 digits a number: always below Number.MAX_SAFE_INTEGER, which semver refuses beyond.
const N = '(0|[1-9]\\d{0,14})';
const PLAIN = new RegExp(`^${N}\\.${N}\\.${N}$`);
const CARET = new RegExp(`^\\^${N}(?:\\.${N}(?:\\.${N})?)?$`);

// Up to three numbers at the start, then the end or anything but a digit or a dot.
const COERCE = new RegExp(`^${N}(?:\\.${N}(?:\\.${N})?)?(?=$|[^\\d.])`);

type Parts = [number, number, number];

function plain(v: string): Parts | undefined {
  const m = PLAIN.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** Whether v is a valid semver version (semver.valid). */
export function isVersion(v: string): boolean {
  return plain(v) !== undefined || load().valid(v) !== null;
}

/** Whether r is a valid semver range (semver.validRange). */
export function isRange(r: string): boolean {
  return r === '*' || CARET.test(r) || plain(r) !== undefined || load().validRange(r) !== null;
}

/** semver.satisfies(v, r), without prereleases. */
export function satisfies(v: string, r: string): boolean {
  const have = plain(v);
  if (have) {
    if (r === '*') return true;
    const exact = plain(r);
    if (exact) return exact.every((x, i) => x === have[i]);
    const m = CARET.exec(r);
    if (m) {
      // ^M.m.p: the leftmost non-zero part stays, the rest may grow (^0.0.p is exactly 0.0.p).
      const [M, n, p] = [Number(m[1]), m[2] === undefined ? undefined : Number(m[2]), m[3] === undefined ? undefined : Number(m[3])];
      const [hM, hn, hp] = have;
      if (hM !== M) return false;
      if (M > 0) return n === undefined || hn > n || (hn === n && hp >= (p ?? 0));
      if (n === undefined) return true;
      if (hn !== n) return false;
      if (n > 0 || p === undefined) return hp >= (p ?? 0);
      return hp === p;
    }
  }
  return load().satisfies(v, r);
}

/** The version in a string, as semver.coerce finds it (e.g. a kernel release "6.1.0-18-amd64"). */
export function coerceVersion(s: string): { major: number; minor: number; patch: number } | undefined {
  const m = COERCE.exec(s);
  if (m) return { major: Number(m[1]), minor: Number(m[2] ?? 0), patch: Number(m[3] ?? 0) };
  const c = load().coerce(s);
  return c ? { major: c.major, minor: c.minor, patch: c.patch } : undefined;
}

/** Whether version a is older than version b, both as coerceVersion reads them. */
export function olderThan(a: { major: number; minor: number; patch: number }, b: { major: number; minor: number; patch: number }): boolean {
  return a.major !== b.major ? a.major < b.major : a.minor !== b.minor ? a.minor < b.minor : a.patch < b.patch;
}
