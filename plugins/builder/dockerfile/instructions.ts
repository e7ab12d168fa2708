// The per-instruction checks of buildkit's frontend/dockerfile/instructions (parse.go, bflag.go),
// with dockerd's messages: argument counts, flags, FROM's stage name, ONBUILD triggers.
import { invalid } from '../../../core/plugin-api.js';
import type { Instruction } from './types.js';
import type { InstructionInternal } from './parser.js';
import { goQuote } from './line-parsers.js';
import { parseGoDuration } from './duration.js';

/** An instruction dockerd refuses: reported as "dockerfile parse error on line N: …". */
export class InstructionError extends Error {
  constructor(readonly line: number, message: string) { super(message); }
}

type FlagType = 'string' | 'bool' | 'strings';
type FlagSpec = Record<string, FlagType>;

const FLAGS: Record<string, FlagSpec> = {
  add: { chown: 'string', chmod: 'string', link: 'bool', 'keep-git-dir': 'bool', checksum: 'string', unpack: 'bool', exclude: 'strings' },
  copy: { chown: 'string', from: 'string', chmod: 'string', link: 'bool', exclude: 'strings', parents: 'bool' },
  from: { platform: 'string' },
  run: { mount: 'strings', network: 'string', security: 'string', device: 'strings' },
  healthcheck: { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' },
};

export const INSTRUCTION_NAMES = [
  'add', 'arg', 'cmd', 'copy', 'entrypoint', 'env', 'expose', 'from', 'healthcheck', 'label',
  'maintainer', 'onbuild', 'run', 'shell', 'stopsignal', 'user', 'volume', 'workdir',
];

function levenshtein(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[y.length];
}

/** buildkit's util/suggest: " (did you mean X?)" for a near miss (distance under 3). */
export function suggestion(val: string, options: readonly string[], caseSensitive: boolean): string {
  const v = caseSensitive ? val : val.toLowerCase();
  let match = '';
  let min = 3;
  for (const o of options) {
    const opt = caseSensitive ? o : o.toLowerCase();
    if (opt === v) return '';
    const dist = levenshtein(v, opt);
    if (dist < min) {
      min = dist;
      match = caseSensitive ? opt : val === val.toLowerCase() ? opt : val === val.toUpperCase() ? opt.toUpperCase() : opt;
    }
  }
  return match ? ` (did you mean ${match}?)` : '';
}

function parseFlags(ins: InstructionInternal, spec: FlagSpec): void {
  const used = new Set<string>();
  for (const a of ins.rawFlags ?? []) {
    if (a === '--') return;
    if (!a.startsWith('--')) throw new InstructionError(ins.line, `arg should start with -- : ${a}`);
    const eq = a.indexOf('=');
    const flagName = eq < 0 ? a : a.slice(0, eq);
    const hasValue = eq >= 0;
    const value = hasValue ? a.slice(eq + 1) : '';
    const name = flagName.slice(2);
    const type = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (!type) throw new InstructionError(ins.line, `unknown flag: ${flagName}${suggestion(name, Object.keys(spec), true)}`);
    if (used.has(name) && type !== 'strings') throw new InstructionError(ins.line, `duplicate flag specified: ${flagName}`);
    used.add(name);
    if (type === 'bool') {
      if (hasValue && value === '') throw new InstructionError(ins.line, `missing a value on flag: ${flagName}`);
      const v = value.toLowerCase();
      if (v === 'true' || v === '') ins.flags[name] = 'true';
      else if (v === 'false') ins.flags[name] = 'false';
      else throw new InstructionError(ins.line, `expecting boolean value for flag ${flagName}, not: ${value}`);
    } else {
      if (!hasValue) throw new InstructionError(ins.line, `missing a value on flag: ${flagName}`);
      ins.flags[name] = value;
    }
  }
}

const VALID_STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** Checks one parsed instruction as dockerd's instructions.Parse does; fills `flags`. */
export function checkInstruction(instruction: Instruction): void {
  const ins = instruction as InstructionInternal;
  const { line, args } = ins;
  const fail = (msg: string): never => { throw new InstructionError(line, msg); };
  const atLeastOne = (name: string) => { if (args.length === 0) fail(`${name} requires at least one argument`); };
  const exactlyOne = (name: string) => { if (args.length !== 1) fail(`${name} requires exactly one argument`); };
  const flags = () => parseFlags(ins, FLAGS[ins.cmd] ?? {});
  switch (ins.cmd) {
    case 'env':
    case 'label': {
      flags();
      const name = ins.cmd.toUpperCase();
      atLeastOne(name);
      for (let i = 0; i < args.length; i += 2) if (args[i] === '') fail(`${name} names can not be blank`);
      return;
    }
    case 'maintainer': exactlyOne('MAINTAINER'); flags(); return;
    case 'add':
    case 'copy':
      if (args.length < 2) fail(`${ins.cmd.toUpperCase()} requires at least two arguments, but only one was provided. Destination could not be determined`);
      flags();
      return;
    case 'from': {
      if (args.length === 3 && args[1].toLowerCase() === 'as') {
        if (!VALID_STAGE_NAME.test(args[2].toLowerCase())) {
          fail(`invalid name for build stage: ${goQuote(args[2])}, name can't start with a number or contain symbols`);
        }
      } else if (args.length !== 1) fail('FROM requires either one or three arguments');
      flags();
      return;
    }
    case 'onbuild': {
      if (args.length === 0 || !ins.next) fail('ONBUILD requires at least one argument');
      flags();
      const trigger = (ins.next as InstructionInternal).keyword!.trim().toUpperCase();
      if (trigger === 'ONBUILD') fail('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'MAINTAINER' || trigger === 'FROM') fail(`${trigger} isn't allowed as an ONBUILD trigger`);
      return;
    }
    case 'workdir': exactlyOne('WORKDIR'); flags(); return;
    case 'user': exactlyOne('USER'); flags(); return;
    case 'stopsignal': exactlyOne('STOPSIGNAL'); flags(); return;
    case 'run':
    case 'cmd':
    case 'entrypoint':
      flags();
      return;
    case 'shell':
      flags();
      if (args.length === 0) fail('SHELL requires at least one argument');
      if (!ins.json) fail('SHELL requires the arguments to be in JSON form');
      return;
    case 'expose':
      atLeastOne('EXPOSE');
      flags();
      args.sort();
      return;
    case 'volume':
      atLeastOne('VOLUME');
      flags();
      for (let i = 0; i < args.length; i++) {
        args[i] = args[i].trim();
        if (args[i] === '') fail('VOLUME specified can not be an empty string');
      }
      return;
    case 'arg': {
      atLeastOne('ARG');
      flags();
      const kv: string[] = [];
      const defaults: (string | null)[] = [];
      for (const a of args) {
        const eq = a.indexOf('=');
        if (eq === 0) fail('ARG names can not be blank');
        kv.push(eq < 0 ? a : a.slice(0, eq), eq < 0 ? '' : a.slice(eq + 1));
        defaults.push(eq < 0 ? null : a.slice(eq + 1));
      }
      ins.args = kv;
      ins.argDefaults = defaults;
      return;
    }
    case 'healthcheck':
      buildHealthConfig(ins);
      return;
    default:
      fail(`unknown instruction: ${ins.keyword}${suggestion(ins.keyword ?? ins.cmd, INSTRUCTION_NAMES, false)}`);
  }
}

/** The image config's Healthcheck for a HEALTHCHECK instruction (durations in nanoseconds). */
export interface HealthConfig {
  Test: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** HEALTHCHECK's config as dockerd builds it; throws E_INVALID with dockerd's messages. */
export function healthcheckConfig(instruction: Instruction): HealthConfig {
  try {
    return buildHealthConfig(instruction);
  } catch (err) {
    if (err instanceof InstructionError) throw invalid(err.message);
    throw err;
  }
}

function buildHealthConfig(instruction: Instruction): HealthConfig {
  const ins = instruction as InstructionInternal;
  const fail = (msg: string): never => { throw new InstructionError(ins.line, msg); };
  if (ins.args.length === 0) fail('HEALTHCHECK requires at least one argument');
  const typ = ins.args[0].toUpperCase();
  const rest = ins.args.slice(1);
  if (typ === 'NONE') {
    if (rest.length !== 0) fail('HEALTHCHECK NONE takes no arguments');
    parseFlags(ins, {});
    return { Test: ['NONE'] };
  }
  parseFlags(ins, FLAGS.healthcheck);
  if (typ !== 'CMD') fail(`Unknown type ${goQuote(typ)} in HEALTHCHECK (try CMD)`);
  const cmd = ins.json ? rest : rest.length ? [rest.join(' ')] : [];
  if (cmd.length === 0) fail('Missing command after HEALTHCHECK CMD');
  const interval = (name: string): number => {
    const v = ins.flags[name];
    if (!v) return 0;
    let ns: number;
    try {
      ns = parseGoDuration(v);
    } catch (err) {
      return fail((err as Error).message);
    }
    if (ns !== 0 && ns < 1e6) fail(`Interval ${goQuote(name)} cannot be less than 1ms`);
    return ns;
  };
  const cfg: HealthConfig = {
    Test: [ins.json ? 'CMD' : 'CMD-SHELL', ...cmd],
    Interval: interval('interval'),
    Timeout: interval('timeout'),
    StartPeriod: interval('start-period'),
    StartInterval: interval('start-interval'),
    Retries: 0,
  };
  const r = ins.flags.retries;
  if (r) {
    if (!/^[+-]?\d+$/.test(r) || Math.abs(Number(r)) > 2 ** 31) fail(`strconv.ParseInt: parsing ${goQuote(r)}: invalid syntax`);
    const n = Number(r);
    if (n < 0) fail(`--retries cannot be negative (${n})`);
    cfg.Retries = n;
  }
  return cfg;
}

const BUILDKIT = 'Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled';

/**
 * The flags only BuildKit honours, refused as the classic builder refuses them ("the --mount
 * option requires BuildKit …"). dockerd refuses RUN's flags and --chmod, and silently drops
 * COPY/ADD's --link, --parents, --exclude, --checksum, --keep-git-dir, --unpack; Berth refuses
 * those too rather than ignore them. The builder calls this before dispatching each instruction.
 */
export function checkClassicFlags(ins: Instruction): void {
  const used = Object.keys(ins.flags);
  let refused: string | undefined;
  if (ins.cmd === 'run') refused = used[0];
  else if (ins.cmd === 'copy' || ins.cmd === 'add') {
    refused = used.includes('chmod') ? 'chmod' : used.find(f => f !== 'chown' && f !== 'from');
  }
  if (refused !== undefined) throw invalid(`the --${refused} option requires BuildKit. ${BUILDKIT}`);
}
