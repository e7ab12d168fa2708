// Go's fmt verbs as dockerd's classic builder uses them in its history comments
// (`CMD ["sh" "-c"]`, `VOLUME [/data]`, `HEALTHCHECK &{…}`): the cache keys and the CreatedBy
// strings `docker history` shows must read exactly as dockerd's.
import type { HealthConfig } from '../image-store/index.js';

/** strconv.Quote: a Go string literal. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** %q of a []string: ["a" "b"]. */
export const goQuoteList = (l: readonly string[] | null | undefined) => `[${(l ?? []).map(goQuote).join(' ')}]`;

/** %v of a []string: [a b]. */
export const goList = (l: readonly string[] | null | undefined) => `[${(l ?? []).join(' ')}]`;

/** time.Duration's String() of nanoseconds ("0s", "1m30s", "500ms"). */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let n = Math.abs(ns);
  let out: string;
  if (n < 1e9) {
    const [unit, div] = n < 1e3 ? ['ns', 1] : n < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    out = `${trimFraction(n / (div as number))}${unit}`;
  } else {
    const h = Math.floor(n / 3600e9);
    n -= h * 3600e9;
    const m = Math.floor(n / 60e9);
    n -= m * 60e9;
    const s = `${trimFraction(n / 1e9)}s`;
    out = h ? `${h}h${m}m${s}` : m ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

const trimFraction = (v: number) => String(Number(v.toFixed(9)));

/** %q of an int: a Go rune literal ('\x03', 'A'). */
function goRune(n: number): string {
  if (n >= 0x20 && n < 0x7f && n !== 0x27 && n !== 0x5c) return `'${String.fromCharCode(n)}'`;
  if (n === 0x27) return "'\\''";
  if (n === 0x5c) return "'\\\\'";
  if (n < 0x100) return `'\\x${n.toString(16).padStart(2, '0')}'`;
  return `'${String.fromCodePoint(n)}'`;
}

/** `HEALTHCHECK %q` of dockerd 20.10's *HealthConfig: &{["CMD-SHELL" "x"] "5s" "3s" "0s" '\x03'}. */
export function goHealthcheck(h: HealthConfig): string {
  return `&{${goQuoteList(h.Test)} ${goQuote(goDuration(h.Interval ?? 0))} ${goQuote(goDuration(h.Timeout ?? 0))} ${goQuote(goDuration(h.StartPeriod ?? 0))} ${goRune(h.Retries ?? 0)}}`;
}
