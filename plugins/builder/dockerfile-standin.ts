// THROWAWAY stand-in until the real parser (plugins/builder/dockerfile, branch buildctx) lands.
import type { Instruction, ParsedDockerfile, Stage } from './dockerfile/types.js';

export function parseDockerfile(text: string): ParsedDockerfile {
  const lines = text.split('\n');
  const instructions: Instruction[] = [];
  let buf = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (!buf && (/^\s*#/.test(l) || !l.trim())) continue;
    if (!buf) start = i + 1;
    if (/\\\s*$/.test(l)) { buf += l.replace(/\\\s*$/, ''); continue; }
    buf += l;
    instructions.push(parseLine(buf.trim(), start));
    buf = '';
  }
  return { escape: '\\', warnings: [], instructions };
}

function parseLine(text: string, line: number): Instruction {
  const m = /^(\S+)\s*(.*)$/.exec(text)!;
  const cmd = m[1].toLowerCase();
  let rest = m[2];
  if (cmd === 'onbuild') return { cmd, original: text, line, flags: {}, args: [rest], json: false, next: parseLine(rest, line) };
  const flags: Record<string, string> = {};
  for (;;) {
    const f = /^--([a-z-]+)=(\S*)\s*/.exec(rest);
    if (!f) break;
    flags[f[1]] = f[2];
    rest = rest.slice(f[0].length);
  }
  if (/^\[/.test(rest.trim())) {
    try { return { cmd, original: text, line, flags, args: JSON.parse(rest), json: true }; } catch { /* shell */ }
  }
  let args: string[];
  if (['run', 'cmd', 'entrypoint', 'shell'].includes(cmd)) args = [rest];
  else if (['env', 'label', 'arg'].includes(cmd)) {
    args = [];
    const re = /([^\s=]+)(?:=("(?:[^"\\]|\\.)*"|\S*))?/g;
    let k: RegExpExecArray | null;
    if (cmd === 'env' && !rest.includes('=')) { const [a, ...b] = rest.split(/\s+/); args = [a, b.join(' ')]; } else {
      while ((k = re.exec(rest))) args.push(k[1], k[2] === undefined ? '\u0000' : k[2].replace(/^"(.*)"$/, '$1'));
    }
  } else args = rest.split(/\s+/).filter(Boolean);
  return { cmd, original: text, line, flags, args, json: false };
}

export function splitStages(instructions: Instruction[]): { metaArgs: Instruction[]; stages: Stage[] } {
  const metaArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const i of instructions) {
    if (i.cmd === 'from') {
      const as = i.args.findIndex((a) => a.toLowerCase() === 'as');
      stages.push({ from: i, body: [], ...(as > 0 ? { name: i.args[as + 1].toLowerCase() } : {}) });
    } else if (!stages.length) metaArgs.push(i);
    else stages[stages.length - 1].body.push(i);
  }
  return { metaArgs, stages };
}

export function expandWord(word: string, env: Record<string, string>): string {
  return word.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_m, a, op, alt, b) => {
    const v = env[a ?? b];
    if (op === '-') return v ? v : alt;
    if (op === '+') return v ? alt : '';
    return v ?? '';
  });
}
