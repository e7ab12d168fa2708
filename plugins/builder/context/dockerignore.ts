// .dockerignore as dockerd reads it (moby/patternmatcher and its ignorefile): comments, `!`
// exclusions, a leading `/` trimmed, cleaned paths, `*`, `?`, `[…]`, `**` and the escape `\`.
import { posix } from 'node:path';
import { invalid } from '../../../core/plugin-api.js';

/** The patterns of a .dockerignore file, normalised as ignorefile.ReadAll does. */
export function readIgnoreFile(text: string): string[] {
  const out: string[] = [];
  const lines = text.split('\n');
  if (lines.length && lines[0].startsWith('\uFEFF')) lines[0] = lines[0].slice(1);
  for (const raw of lines) {
    if (raw.startsWith('#')) continue;
    let pattern = raw.trim();
    if (pattern === '') continue;
    const invert = pattern[0] === '!';
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = posix.normalize(pattern).replace(/\/+$/, '') || '/';
      if (pattern.length > 1 && pattern[0] === '/') pattern = pattern.slice(1);
    }
    out.push(invert ? '!' + pattern : pattern);
  }
  return out;
}

interface Pattern {
  exclusion: boolean;
  re: RegExp;
}

const ESCAPED = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);

function compile(pattern: string): RegExp {
  const chars = Array.from(pattern);
  let re = '^';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        i++;
        if (chars[i + 1] === '/') i++;
        re += i + 1 >= chars.length ? '.*' : '(.*/)?';
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ESCAPED.has(ch)) re += '\\' + ch;
    else if (ch === '\\') {
      if (i + 1 < chars.length) re += '\\' + chars[++i];
      else re += '\\\\';
    } else if (ch === '[' || ch === ']') re += ch;
    else if (ch === '^') re += '\\^';
    else re += ch;
  }
  re += '$';
  try {
    return new RegExp(re, 'u');
  } catch {
    throw invalid(`error reading .dockerignore: syntax error in pattern: ${pattern}`);
  }
}

/** Clean a context-relative path the way Go's filepath.Clean does, without a leading `/`. */
export function cleanRel(path: string): string {
  const n = posix.normalize('/' + path).replace(/\/+$/, '');
  return n === '' ? '.' : n.slice(1) || '.';
}

export class PatternMatcher {
  private readonly patterns: Pattern[] = [];
  /** True when some pattern re-includes (`!…`): an ignored folder may still hold kept files. */
  readonly exclusions: boolean;

  constructor(readonly source: readonly string[]) {
    let exclusions = false;
    for (let p of source) {
      p = p.trim();
      if (p === '') continue;
      p = posix.normalize(p).replace(/(.)\/+$/, '$1');
      let exclusion = false;
      if (p[0] === '!') {
        if (p.length === 1) throw invalid('error reading .dockerignore: illegal exclusion pattern: "!"');
        exclusion = true;
        exclusions = true;
        p = p.slice(1);
      }
      this.patterns.push({ exclusion, re: compile(p) });
    }
    this.exclusions = exclusions;
  }

  /**
   * Whether a context path is ignored (patternmatcher's MatchesOrParentMatches: a pattern that
   * matches one of its parent folders ignores it too, later `!` patterns re-include).
   */
  matches(relPath: string): boolean {
    const file = cleanRel(relPath);
    const parent = posix.dirname(file);
    const parentDirs = parent.split('/');
    let matched = false;
    for (const p of this.patterns) {
      if (p.exclusion !== matched) continue;
      let match = p.re.test(file);
      if (!match && parent !== '.') {
        for (let i = 0; i < parentDirs.length && !match; i++) match = p.re.test(parentDirs.slice(0, i + 1).join('/'));
      }
      if (match) matched = !p.exclusion;
    }
    return matched;
  }
}
