// The per-instruction line parsers of buildkit's frontend/dockerfile/parser (line_parsers.go,
// split_command.go): the rest of a line becomes arguments; quotes are kept for the expansion step.

export class SyntaxError_ extends Error {}

const WS = /[\t\v\f\r ]+/;
const isSpace = (ch: string) => /^\s$/u.test(ch);

export interface LineResult {
  args: string[];
  json: boolean;
  /** parseNameVal: true when written `KEY value` (no `=`). */
  noDelim?: boolean[];
}

/** Splits `CMD --flags rest` into its keyword, flags and the rest (trimmed). */
export function splitCommand(line: string, escape: string): { cmd: string; flags: string[]; rest: string } {
  const trimmed = line.trim();
  const m = WS.exec(trimmed);
  if (!m) return { cmd: trimmed, flags: [], rest: '' };
  const cmd = trimmed.slice(0, m.index);
  const { rest, flags } = extractBuilderFlags(trimmed.slice(m.index + m[0].length), escape);
  return { cmd, flags, rest: rest.trim() };
}

function extractBuilderFlags(line: string, escape: string): { rest: string; flags: string[] } {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let buf = '';
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    let ch = pos < line.length ? line[pos] : '';
    if (phase === 'spaces') {
      if (pos === line.length) break;
      if (isSpace(ch)) continue;
      if (ch !== '-' || pos + 1 === line.length || line[pos + 1] !== '-') return { rest: line.slice(pos), flags: words };
      phase = 'word';
    }
    if (pos === line.length) {
      if (buf !== '--' && (blankOK || buf.length > 0)) words.push(buf);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (buf === '--') return { rest: line.slice(pos), flags: words };
        if (blankOK || buf.length > 0) words.push(buf);
        buf = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') { quote = ch; blankOK = true; phase = 'quote'; continue; }
      if (ch === escape) {
        if (pos + 1 === line.length) continue;
        ch = line[++pos];
      }
      buf += ch;
      continue;
    }
    // in a quote
    if (ch === quote) { phase = 'word'; continue; }
    if (ch === escape) {
      if (pos + 1 === line.length) { phase = 'word'; continue; }
      ch = line[++pos];
    }
    buf += ch;
  }
  return { rest: '', flags: words };
}

/** Space-delimited words, quotes and escapes kept (they go away at expansion). */
export function parseWords(rest: string, escape: string): string[] {
  const chars = Array.from(rest);
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOK = false;
  let buf = '';
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = pos < chars.length ? chars[pos] : '';
    if (phase === 'spaces') {
      if (pos === chars.length) break;
      if (isSpace(ch)) continue;
      phase = 'word';
    }
    if (pos === chars.length) {
      if (blankOK || buf.length > 0) words.push(buf);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (blankOK || buf.length > 0) words.push(buf);
        buf = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') { quote = ch; blankOK = true; phase = 'quote'; }
      if (ch === escape) {
        if (pos + 1 === chars.length) continue;
        buf += ch;
        ch = chars[++pos];
      }
      buf += ch;
      continue;
    }
    if (ch === quote) phase = 'word';
    if (ch === escape && quote !== "'") {
      if (pos + 1 === chars.length) { phase = 'word'; continue; }
      buf += ch;
      ch = chars[++pos];
    }
    buf += ch;
  }
  return words;
}

/** ENV and LABEL: `KEY value` (old form) or `k=v k2="v 2"`; args alternate key, value. */
export function parseNameVal(rest: string, key: string, escape: string): LineResult {
  const words = parseWords(rest, escape);
  if (words.length === 0) return { args: [], json: false, noDelim: [] };
  if (!words[0].includes('=')) {
    const m = WS.exec(rest);
    if (!m) throw new SyntaxError_(`${key} must have two arguments`);
    return { args: [rest.slice(0, m.index), rest.slice(m.index + m[0].length)], json: false, noDelim: [true] };
  }
  const args: string[] = [];
  const noDelim: boolean[] = [];
  for (const word of words) {
    const i = word.indexOf('=');
    if (i < 0) throw new SyntaxError_(`Syntax error - can't find = in ${goQuote(word)}. Must be of the form: name=value`);
    args.push(word.slice(0, i), word.slice(i + 1));
    noDelim.push(false);
  }
  return { args, json: false, noDelim };
}

export function parseStringsWhitespaceDelimited(rest: string): LineResult {
  if (rest === '') return { args: [], json: false };
  return { args: rest.split(WS), json: false };
}

export function parseString(rest: string): LineResult {
  return { args: rest === '' ? [] : [rest], json: false };
}

const NOT_JSON = Symbol('not json');

/** A JSON array of strings, or NOT_JSON; an array of non-strings is an error as in dockerd. */
function parseJSON(rest: string): string[] | typeof NOT_JSON {
  const t = rest.replace(/^\s+/u, '');
  if (!t.startsWith('[')) return NOT_JSON;
  let parsed: unknown;
  try {
    parsed = JSON.parse(t);
  } catch {
    return NOT_JSON;
  }
  if (!Array.isArray(parsed)) return NOT_JSON;
  for (const v of parsed) {
    if (typeof v !== 'string') throw new SyntaxError_('when using JSON array syntax, arrays must be comprised of strings only');
  }
  return parsed as string[];
}

/** RUN, CMD, ENTRYPOINT, SHELL: exec form, or the whole rest as one argument. */
export function parseMaybeJSON(rest: string): LineResult {
  if (rest === '') return { args: [], json: false };
  const j = parseJSON(rest);
  if (j !== NOT_JSON) return { args: j, json: true };
  return { args: [rest], json: false };
}

/** ADD, COPY, VOLUME: exec form, or whitespace-split words. */
export function parseMaybeJSONToList(rest: string): LineResult {
  const j = parseJSON(rest);
  if (j !== NOT_JSON) return { args: j, json: true };
  return parseStringsWhitespaceDelimited(rest);
}

/** HEALTHCHECK: the type (CMD/NONE) then parseMaybeJSON of the rest. */
export function parseHealthConfig(rest: string): LineResult {
  const m = /\s/u.exec(rest);
  const sep = m ? m.index : rest.length;
  if (sep === 0) return { args: [], json: false };
  const typ = rest.slice(0, sep);
  const cmd = parseMaybeJSON(rest.slice(sep).replace(/^\s+/u, ''));
  return { args: [typ, ...cmd.args], json: cmd.json };
}

/** Go's %q for the plain strings Dockerfile errors quote. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}
