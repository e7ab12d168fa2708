// The HEALTHCHECK instruction of `docker import -c` / commit changes, parsed as the Dockerfile
// builder parses it: flags with Go durations, then NONE or CMD (exec or shell form).
import { invalid } from '../../core/plugin-api.js';
import type { HealthConfig } from './image-config.js';

const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A Go duration ("1m30s", "500ms") in nanoseconds. */
export function parseGoDuration(text: string): number {
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(text))) { total += Number(m[1]) * UNITS[m[2]]; end = re.lastIndex; }
  if (text === '0') return 0;
  if (!text || end !== text.length) throw invalid(`time: invalid duration "${text}"`);
  return Math.round(total);
}

const FLAGS: Record<string, keyof HealthConfig> = {
  interval: 'Interval', timeout: 'Timeout', 'start-period': 'StartPeriod', 'start-interval': 'StartInterval', retries: 'Retries',
};

export function parseHealthcheck(rest: string): HealthConfig {
  let text = rest.trim();
  const h: HealthConfig = {};
  for (let m = /^--([a-z-]+)=(\S*)\s*/.exec(text); m; m = /^--([a-z-]+)=(\S*)\s*/.exec(text)) {
    const key = FLAGS[m[1]];
    if (!key) throw invalid(`Unknown flag: ${m[1]}`);
    if (key === 'Retries') {
      const n = Number(m[2]);
      if (!Number.isInteger(n) || n < 1) throw invalid(`--retries must be at least 1 (not ${m[2]})`);
      h.Retries = n;
    } else {
      const ns = parseGoDuration(m[2]);
      if (ns !== 0 && ns < 1e6) throw invalid(`Interval "--${m[1]}" cannot be less than 1ms`);
      (h as Record<string, number>)[key] = ns;
    }
    text = text.slice(m[0].length);
  }
  const [word, ...args] = text.split(/\s+/);
  const command = text.slice(word.length).trim();
  switch (word.toUpperCase()) {
    case 'NONE':
      if (args.length) throw invalid('HEALTHCHECK NONE takes no arguments');
      return { Test: ['NONE'] };
    case 'CMD': {
      if (!command) throw invalid('Missing command after HEALTHCHECK CMD');
      if (command.startsWith('[')) {
        try {
          const argv = JSON.parse(command);
          if (Array.isArray(argv) && argv.every((x) => typeof x === 'string')) return { ...h, Test: ['CMD', ...argv] };
        } catch { /* not JSON: the shell form */ }
      }
      return { ...h, Test: ['CMD-SHELL', command] };
    }
    default:
      throw invalid(`Unknown type "${word}" in HEALTHCHECK (try CMD)`);
  }
}
