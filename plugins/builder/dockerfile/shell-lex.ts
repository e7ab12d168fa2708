// Variable expansion as dockerd does it: buildkit's frontend/dockerfile/shell lexer
// ($VAR, ${VAR}, ${VAR:-w}, ${VAR-w}, ${VAR:+w}, ${VAR+w}, ${VAR:?w}, ${VAR#p}, ${VAR%p},
// ${VAR/p/r}, quotes, the escape token, word splitting). Not a shell: no commands, no globs.

/** The variables in effect: a map, or `KEY=value` lines as an image's Env holds them. */
export type ShellEnv = ReadonlyMap<string, string> | readonly string[];

export interface LexOptions {
  /** Keep quotes in the result (heredoc detection). */
  rawQuotes?: boolean;
  /** Keep escape tokens in the result. */
  rawEscapes?: boolean;
  /** Leave `$VAR` of an unset variable as written. */
  skipUnsetEnv?: boolean;
}

class LexError extends Error {}

function toMap(env: ShellEnv): ReadonlyMap<string, string> {
  if (!Array.isArray(env)) return env as ReadonlyMap<string, string>;
  const m = new Map<string, string>();
  for (const e of env as readonly string[]) {
    const i = e.indexOf('=');
    if (i < 0) m.set(e, '');
    else m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

const isSpace = (ch: string) => /^\s$/u.test(ch);
const isLetter = (ch: string) => /^\p{L}$/u.test(ch);
const isDigit = (ch: string) => /^\p{Nd}$/u.test(ch);
const SPECIAL = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);

class Words {
  words: string[] = [];
  buf = '';
  inWord = false;
  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.buf.length) { this.words.push(this.buf); this.buf = ''; this.inWord = false; }
    } else this.addRaw(ch);
  }
  addRaw(s: string): void { this.buf += s; this.inWord = true; }
  addString(s: string): void { for (const ch of s) this.addChar(ch); }
  get(): string[] {
    if (this.buf.length) { this.words.push(this.buf); this.buf = ''; this.inWord = false; }
    return this.words;
  }
}

class Lexer {
  private chars: string[];
  private pos = 0;
  private rawEscapes: boolean;
  constructor(word: string, private env: ReadonlyMap<string, string>, private escape: string, private opts: LexOptions) {
    this.chars = Array.from(word);
    this.rawEscapes = !!opts.rawEscapes;
  }
  private peek(): string | undefined { return this.chars[this.pos]; }
  private next(): string | undefined { return this.chars[this.pos++]; }

  run(): { word: string; words: string[] } {
    return this.stopOn(undefined, this.rawEscapes);
  }

  private stopOn(stop: string | undefined, rawEscapes: boolean): { word: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let result = '';
      const words = new Words();
      while (this.peek() !== undefined) {
        const ch = this.peek()!;
        if (stop !== undefined && ch === stop) {
          this.next();
          return { word: result, words: words.get() };
        }
        if (ch === '$') {
          const v = this.dollar();
          result += v;
          words.addString(v);
        } else if (ch === '<') {
          const v = this.possibleHeredoc();
          result += v;
          words.addRaw(v);
        } else if (ch === "'") {
          const v = this.singleQuote();
          result += v;
          words.addRaw(v);
        } else if (ch === '"') {
          const v = this.doubleQuote();
          result += v;
          words.addRaw(v);
        } else {
          let c = this.next()!;
          if (c === this.escape) {
            if (this.rawEscapes) { words.addRaw(c); result += c; }
            const n = this.next();
            if (n === undefined) break;
            c = n;
            words.addRaw(c);
          } else words.addChar(c);
          result += c;
        }
      }
      if (stop !== undefined) throw new LexError(`unexpected end of statement while looking for matching ${stop}`);
      return { word: result, words: words.get() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private singleQuote(): string {
    let out = '';
    const open = this.next()!;
    if (this.opts.rawQuotes) out += open;
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.opts.rawQuotes) out += ch;
        return out;
      }
      out += ch;
    }
  }

  private doubleQuote(): string {
    let out = '';
    const open = this.next()!;
    if (this.opts.rawQuotes) out += open;
    for (;;) {
      const p = this.peek();
      if (p === undefined) throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        this.next();
        if (this.opts.rawQuotes) out += p;
        return out;
      }
      if (p === '$') { out += this.dollar(); continue; }
      let ch = this.next()!;
      if (ch === this.escape) {
        if (this.rawEscapes) out += ch;
        const n = this.peek();
        if (n === undefined) continue;
        if (n === '"' || n === '$' || n === this.escape) ch = this.next()!;
      }
      out += ch;
    }
  }

  private lookup(name: string): string | undefined {
    return this.env.get(name);
  }

  private dollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.name();
      if (name === '') return '$';
      const v = this.lookup(name);
      if (v === undefined && this.opts.skipUnsetEnv) return '$' + name;
      return v ?? '';
    }
    this.next();
    const p = this.peek();
    if (p === undefined) throw new LexError("syntax error: missing '}'");
    if (p === '{' || p === '}' || p === ':') throw new LexError('syntax error: bad substitution');
    const name = this.name();
    let ch = this.next();
    let chs = ch ?? '';
    let nullIsUnset = false;
    if (ch === '}') {
      const v = this.lookup(name);
      if (v === undefined && this.opts.skipUnsetEnv) return `\${${name}}`;
      return v ?? '';
    }
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.next();
      chs += ch ?? '';
    }
    if (ch === undefined) throw new LexError("syntax error: missing '}'");
    if (nullIsUnset || ch === '+' || ch === '-' || ch === '?' || ch === '#' || ch === '%') {
      const raw = ch === '#' || ch === '%';
      if (nullIsUnset && raw) throw new LexError(`unsupported modifier (${chs}) in substitution`);
      let word: string;
      try {
        word = this.stopOn('}', raw).word;
      } catch (err) {
        if (this.peek() === undefined) throw new LexError("syntax error: missing '}'");
        throw err;
      }
      const value = this.lookup(name);
      const set = value !== undefined;
      if (this.opts.skipUnsetEnv && !set) return `\${${name}${chs}${word}}`;
      switch (ch) {
        case '-':
          return !set || (nullIsUnset && value === '') ? word : value!;
        case '+':
          return !set || (nullIsUnset && value === '') ? '' : word;
        case '?':
          if (!set) throw new LexError(`${name}: ${word || 'is not allowed to be unset'}`);
          if (nullIsUnset && value === '') throw new LexError(`${name}: ${word || 'is not allowed to be empty'}`);
          return value!;
        case '%':
        case '#': {
          let greedy = false;
          if (word.startsWith(ch)) { greedy = true; word = word.slice(1); }
          return ch === '%' ? trimSuffix(word, value ?? '', greedy) : trimPrefix(word, value ?? '', greedy);
        }
        default:
          throw new LexError(`unsupported modifier (${chs}) in substitution`);
      }
    }
    if (ch === '/') {
      const all = this.peek() === '/';
      if (all) this.next();
      let pattern: string;
      try {
        pattern = this.stopOn('/', true).word;
      } catch (err) {
        if (this.peek() === undefined) throw new LexError("syntax error: missing '/' in ${}");
        throw err;
      }
      let replacement: string;
      try {
        replacement = this.stopOn('}', true).word;
      } catch (err) {
        if (this.peek() === undefined) throw new LexError("syntax error: missing '}'");
        throw err;
      }
      const value = this.lookup(name);
      if (this.opts.skipUnsetEnv && value === undefined) return `\${${name}/${pattern}/${replacement}}`;
      const re = shellPatternToRegex(pattern, true, false, all);
      return (value ?? '').replace(re, () => replacement);
    }
    throw new LexError(`unsupported modifier (${chs}) in substitution`);
  }

  private name(): string {
    let name = '';
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) break;
      if (name === '' && isDigit(ch)) {
        while (this.peek() !== undefined && isDigit(this.peek()!)) name += this.next();
        return name;
      }
      if (name === '' && SPECIAL.has(ch)) return this.next()!;
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }

  private possibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let space = '';
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === '\r') space += this.next();
    return '<<' + space;
  }
}

function shellPatternToRegex(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  const star = greedy ? '.*' : '.*?';
  for (let i = 0; i < chars.length; i++) {
    let tok = chars[i];
    if (tok === '*') { out += star; continue; }
    if (tok === '?') { out += '.'; continue; }
    if (tok === '\\') {
      const n = chars[i + 1];
      if (n === '}' || n === '/') continue;
      i++;
      if (n !== '*' && n !== '?' && n !== '\\') {
        throw new LexError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${n ?? ''}'`);
      }
      tok = n;
      out += '\\' + tok;
      continue;
    }
    out += tok.replace(/[[\]{}.+()|^$]/g, '\\$&');
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegex(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

function reversePattern(pattern: string): string {
  const p = Array.from(pattern);
  const out: string[] = new Array(p.length);
  const last = p.length - 1;
  for (let i = 0; i <= last;) {
    if (p[i] === '\\' && i !== last) {
      out[last - i - 1] = p[i];
      out[last - i] = p[i + 1];
      i += 2;
    } else {
      out[last - i] = p[i];
      i++;
    }
  }
  return out.join('');
}

const reverse = (s: string) => Array.from(s).reverse().join('');

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverse(trimPrefix(reversePattern(pattern), reverse(value), greedy));
}

function lex(word: string, env: ShellEnv, escape: string, opts: LexOptions): { word: string; words: string[] } {
  try {
    return new Lexer(word, toMap(env), escape, opts).run();
  } catch (err) {
    if (err instanceof LexError) throw new LexError(`failed to process ${JSON.stringify(word)}: ${err.message}`);
    throw err;
  }
}

/** Expands one word (quotes removed, no splitting): ENV/LABEL values, WORKDIR, USER, COPY paths … */
export function expandWord(word: string, env: ShellEnv, escape = '\\', opts: LexOptions = {}): string {
  return lex(word, env, escape, opts).word;
}

/** Expands and splits into words as dockerd's ProcessWords does (quoted spaces kept). */
export function expandWords(word: string, env: ShellEnv, escape = '\\', opts: LexOptions = {}): string[] {
  return lex(word, env, escape, opts).words;
}

export { LexError as ExpansionError };
