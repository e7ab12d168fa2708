// dockerd-style command-line flags: --name=value, --name value, -x value, repeatable flags,
// booleans that accept --flag=false. Each flag maps to a daemon.json key (or to none).
import { invalid } from '../errors.js';

export type FlagType = 'string' | 'boolean' | 'integer' | 'number' | 'list';

export interface FlagSpec {
  name: string;
  short?: string;
  /** The daemon.json key this flag sets; absent for command-only flags (--validate, --help). */
  key?: string;
  type: FlagType;
  description: string;
  /** Who declared the flag: core or a plugin's name, shown in --help. */
  owner?: string;
}

export interface ParsedArgs {
  /** Values by daemon.json key (or by flag name for keyless flags). */
  values: Record<string, unknown>;
  /** Words that are not flags: subcommands such as `plugins`. */
  positionals: string[];
}

function convert(spec: FlagSpec, raw: string): unknown {
  switch (spec.type) {
    case 'boolean':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw invalid(`invalid boolean value "${raw}" for flag --${spec.name}`);
    case 'integer':
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || Number.isNaN(n) || (spec.type === 'integer' && !Number.isInteger(n))) {
        throw invalid(`invalid ${spec.type} value "${raw}" for flag --${spec.name}`);
      }
      return n;
    }
    default:
      return raw;
  }
}

/**
 * Parses argv against the flag table. With `lenient`, unknown flags are skipped: the first pass
 * reads only --config-file and --plugin-dir, before plugins have declared their own flags.
 */
export function parseFlags(argv: string[], specs: FlagSpec[], lenient = false): ParsedArgs {
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) {
    byName.set(`--${s.name}`, s);
    if (s.short) byName.set(`-${s.short}`, s);
  }
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (!word.startsWith('-') || word === '-') { positionals.push(word); continue; }
    const eq = word.indexOf('=');
    const flag = eq > 0 ? word.slice(0, eq) : word;
    const spec = byName.get(flag);
    if (!spec) {
      if (lenient) continue;
      throw invalid(`unknown flag: ${flag}\nSee 'berthd --help'.`);
    }
    let raw: string | undefined = eq > 0 ? word.slice(eq + 1) : undefined;
    if (raw === undefined && spec.type !== 'boolean') {
      raw = argv[++i];
      if (raw === undefined) throw invalid(`flag needs an argument: ${flag}`);
    }
    const value = raw === undefined ? true : convert(spec, raw);
    const key = spec.key ?? spec.name;
    if (spec.type === 'list') {
      values[key] = [...((values[key] as string[] | undefined) ?? []), value];
    } else {
      values[key] = value;
    }
  }
  return { values, positionals };
}

export function formatHelp(specs: FlagSpec[]): string {
  const rows = [...specs]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((s) => {
      const names = `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.type === 'boolean' ? '' : ` ${s.type === 'list' ? 'list' : s.type}`}`;
      const owner = s.owner && s.owner !== 'core' ? ` [${s.owner}]` : '';
      return `  ${names.padEnd(34)} ${s.description}${owner}`;
    });
  return [
    'Usage:  berthd [OPTIONS]',
    '        berthd plugins [OPTIONS]   list the plugins this configuration loads',
    '',
    'A container engine daemon that speaks the Docker Engine API',
    '',
    'Options:',
    ...rows,
    '',
  ].join('\n');
}
