// Dockerfile text → instructions, with the rules of buildkit's frontend/dockerfile/parser
// (the parser dockerd's classic builder uses): directives, comments, continuations, the
// escape token, JSON vs shell form. Each instruction is then checked as
// frontend/dockerfile/instructions does (argument counts, flags, ONBUILD triggers).
import { invalid, type BerthError } from '../../../core/plugin-api.js';
import type { Instruction, ParsedDockerfile } from './types.js';
import {
  SyntaxError_, splitCommand, parseNameVal, parseWords, parseString, parseStringsWhitespaceDelimited,
  parseMaybeJSON, parseMaybeJSONToList, parseHealthConfig, type LineResult,
} from './line-parsers.js';
import { expandWords } from './shell-lex.js';
import { checkInstruction, InstructionError } from './instructions.js';

const LINE_PARSERS: Record<string, (rest: string, escape: string) => LineResult> = {
  add: parseMaybeJSONToList,
  arg: (rest, escape) => ({ args: parseWords(rest, escape), json: false }),
  cmd: parseMaybeJSON,
  copy: parseMaybeJSONToList,
  entrypoint: parseMaybeJSON,
  env: (rest, escape) => parseNameVal(rest, 'ENV', escape),
  expose: parseStringsWhitespaceDelimited,
  from: parseStringsWhitespaceDelimited,
  healthcheck: parseHealthConfig,
  label: (rest, escape) => parseNameVal(rest, 'LABEL', escape),
  maintainer: parseString,
  run: parseMaybeJSON,
  shell: parseMaybeJSON,
  stopsignal: parseString,
  user: parseString,
  volume: parseMaybeJSONToList,
  workdir: parseString,
};

const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const VALID_DIRECTIVES = new Set(['syntax', 'escape', 'check']);
const HEREDOC = /^(\d*)<<(-?)\s*([^<]*)$/;
const BUILDKIT_URL = 'Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled';

interface Directives {
  escape: '\\' | '`';
  continuation: RegExp;
  done: boolean;
  seen: Set<string>;
  notes: string[];
}

function setEscape(d: Directives, token: string): void {
  if (token !== '`' && token !== '\\') throw new SyntaxError_(`invalid escape token '${token}' does not match \` or \\`);
  d.escape = token;
  const e = '\\' + token;
  d.continuation = new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
}

/** Reads `# name=value` while directives are still allowed; true when the line was one. */
function parseDirective(d: Directives, line: string): boolean {
  if (d.done) return false;
  if (!line.startsWith('#')) { d.done = true; return false; }
  const m = DIRECTIVE.exec(line.slice(1).replace(/^\s+/u, ''));
  const key = m?.[1].toLowerCase();
  if (!m || !key || !VALID_DIRECTIVES.has(key)) { d.done = true; return false; }
  if (d.seen.has(key)) throw new SyntaxError_(`only one ${key} parser directive can be used`);
  d.seen.add(key);
  if (key === 'escape') setEscape(d, m[2]);
  else if (key === 'syntax') d.notes.push(`[WARNING]: The "syntax=${m[2]}" parser directive is ignored: the classic builder has no Dockerfile frontends (that needs BuildKit)`);
  else d.notes.push(`[WARNING]: The "check=${m[2]}" parser directive is ignored: build checks need BuildKit`);
  return true;
}

const trimNewline = (s: string) => s.replace(/[\r\n]+$/, '');
const isComment = (s: string) => /^\s*#/u.test(s);

/** An error in the Dockerfile's syntax: dockerd reports it as "failed to parse <name>: …". */
export class DockerfileSyntaxError extends Error {
  constructor(readonly line: number, message: string) { super(message); }
}

function parseLine(line: string, d: Directives, lineNo: number): Instruction {
  const { cmd, flags, rest } = splitCommand(line, d.escape);
  const lower = cmd.toLowerCase();
  let parsed: LineResult;
  let next: Instruction | undefined;
  if (lower === 'onbuild') {
    // args: the trigger as the image config stores it; next: the trigger parsed.
    parsed = { args: [], json: false };
    if (rest !== '') {
      next = parseLine(rest, d, lineNo);
      parsed = { args: [line.replace(/^\s*ONBUILD\s*/i, '')], json: next.json };
    }
  } else {
    const fn = LINE_PARSERS[lower];
    parsed = fn ? fn(rest, d.escape) : { args: [], json: false };
  }
  const ins: Instruction = { cmd: lower, original: line, line: lineNo, flags: {}, args: parsed.args, json: parsed.json };
  (ins as InstructionInternal).rawFlags = flags;
  (ins as InstructionInternal).keyword = cmd;
  if (parsed.noDelim) (ins as InstructionInternal).noDelim = parsed.noDelim;
  if (next) ins.next = next;
  return ins;
}

/** Fields the checks read that the agreed shape does not carry. */
export interface InstructionInternal extends Instruction {
  rawFlags?: string[];
  keyword?: string;
  noDelim?: boolean[];
}

/** A RUN/COPY/ADD (or ONBUILD of one) in shell form that uses `<<WORD`. */
function usesHeredoc(ins: Instruction): boolean {
  const target = ins.cmd === 'onbuild' && ins.next ? ins.next : ins;
  if (!['run', 'copy', 'add'].includes(target.cmd) || target.json) return false;
  const line = target.original;
  if (!line.includes('<<')) return false;
  let words: string[];
  try {
    words = expandWords(line, new Map(), '\\', { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
  } catch {
    return false;
  }
  return words.some(w => { const m = HEREDOC.exec(w); return !!m && m[3].length > 0; });
}

/**
 * Parses a Dockerfile as dockerd does. Throws a coded E_INVALID error with dockerd's text:
 * "failed to parse <name>: …" for syntax errors, "dockerfile parse error on line N: …" for an
 * instruction dockerd refuses (unknown instruction, bad arguments or flags).
 */
export function parseDockerfile(text: string, name = 'Dockerfile'): ParsedDockerfile {
  try {
    return parseText(text);
  } catch (err) {
    throw toBerthError(err, name);
  }
}

function toBerthError(err: unknown, name: string): BerthError | unknown {
  if (err instanceof SyntaxError_ || err instanceof DockerfileSyntaxError) return invalid(`failed to parse ${name}: ${err.message}`);
  if (err instanceof InstructionError) return invalid(`dockerfile parse error on line ${err.line}: ${err.message}`);
  return err;
}

function parseText(text: string): ParsedDockerfile {
  const d: Directives = { escape: '\\', continuation: /$^/, done: false, seen: new Set(), notes: [] };
  setEscape(d, '\\');
  const lines = text.split(/(?<=\n)/);
  if (lines.length && lines[0].startsWith('\uFEFF')) lines[0] = lines[0].slice(1);
  const instructions: Instruction[] = [];
  const emptyContinuation: string[] = [];
  let current = 0;
  let i = 0;
  const processLine = (raw: string, stripLeft: boolean): { text: string; directive: boolean } => {
    let t = trimNewline(raw);
    if (stripLeft) t = t.replace(/^\s+/u, '');
    let directive = false;
    try {
      directive = parseDirective(d, t);
    } catch (err) {
      if (err instanceof SyntaxError_) throw new DockerfileSyntaxError(current, err.message);
      throw err;
    }
    return { text: isComment(t) ? '' : t, directive };
  };
  const trimContinuation = (s: string): { text: string; end: boolean } => {
    if (d.continuation.test(s)) return { text: s.replace(d.continuation, '$1'), end: false };
    return { text: s, end: true };
  };
  while (i < lines.length) {
    const first = processLine(lines[i++], true);
    current++;
    const startLine = current;
    let { text: t, end } = trimContinuation(first.text);
    if (end && t.length === 0) continue;
    let buf = t;
    let hasEmpty = false;
    while (!end && i < lines.length) {
      const raw = lines[i++];
      const p = processLine(raw, false);
      current++;
      if (isComment(raw)) continue;
      if (trimNewline(p.text).replace(/^\s+/u, '').length === 0) { hasEmpty = true; continue; }
      ({ text: t, end } = trimContinuation(p.text));
      buf += t;
    }
    if (hasEmpty) emptyContinuation.push(`[WARNING]: Empty continuation line found in: ${buf}`);
    let ins: Instruction;
    try {
      ins = parseLine(buf, d, startLine);
    } catch (err) {
      if (err instanceof SyntaxError_) throw new DockerfileSyntaxError(startLine, err.message);
      throw err;
    }
    if (usesHeredoc(ins)) {
      throw new InstructionError(startLine, `the heredoc syntax (<<EOF) requires BuildKit. ${BUILDKIT_URL}`);
    }
    instructions.push(ins);
  }
  if (instructions.length === 0) throw new DockerfileSyntaxError(current, 'file with no instructions');
  for (const ins of instructions) checkInstruction(ins);
  const warnings = [...emptyContinuation];
  if (emptyContinuation.length) warnings.push('[WARNING]: Empty continuation lines will become errors in a future release.');
  warnings.push(...d.notes);
  return { escape: d.escape, warnings, instructions };
}

/** One ONBUILD trigger from a parent image, parsed for the child build (dockerd's checks). */
export function parseOnbuildTrigger(trigger: string): Instruction {
  const parsed = parseDockerfile(trigger);
  if (parsed.instructions.length !== 1) throw invalid('onbuild trigger should be a single expression');
  const ins = parsed.instructions[0];
  if (ins.cmd === 'from' || ins.cmd === 'onbuild' || ins.cmd === 'maintainer') {
    throw invalid(ins.cmd === 'onbuild' ? 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed' : `${ins.cmd.toUpperCase()} isn't allowed as an ONBUILD trigger`);
  }
  return ins;
}
