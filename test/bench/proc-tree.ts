// Process trees over /proc: who descends from a daemon (dockerd spawns containerd), whether a
// recorded process is still the same one, and how much memory a tree holds.
import { readdirSync, readFileSync } from 'node:fs';

/** A pid plus its start time, so a recycled pid is never mistaken for our process. */
export interface ProcId {
  pid: number;
  start: string;
}

interface Stat {
  ppid: number;
  state: string;
  start: string;
}

function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may hold spaces and parentheses: split only after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), rest[1] field 4 (ppid), rest[19] field 22 (starttime).
  return { state: rest[0], ppid: Number(rest[1]), start: rest[19] };
}

export function procId(pid: number): ProcId | undefined {
  const s = readStat(pid);
  return s ? { pid, start: s.start } : undefined;
}

/** True while the very process recorded is alive (zombies count as gone). */
export function isAlive(p: ProcId): boolean {
  const s = readStat(p.pid);
  return s !== undefined && s.start === p.start && s.state !== 'Z';
}

/** The root and all its descendants, found through the ppid of every process in /proc. */
export function processTree(root: number): ProcId[] {
  const children = new Map<number, number[]>();
  const stats = new Map<number, Stat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const s = readStat(pid);
    if (!s) continue;
    stats.set(pid, s);
    const list = children.get(s.ppid) ?? [];
    list.push(pid);
    children.set(s.ppid, list);
  }
  const out: ProcId[] = [];
  const queue = stats.has(root) ? [root] : [];
  while (queue.length) {
    const pid = queue.shift()!;
    const s = stats.get(pid)!;
    if (s.state !== 'Z') out.push({ pid, start: s.start });
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

export interface TreeMemory {
  rssKb: number;
  pssKb: number;
  processes: number;
}

/** Sums Rss and Pss of smaps_rollup over the processes (Pss splits shared pages fairly). */
export function treeMemory(procs: ProcId[]): TreeMemory {
  const total: TreeMemory = { rssKb: 0, pssKb: 0, processes: 0 };
  for (const p of procs) {
    let text: string;
    try {
      text = readFileSync(`/proc/${p.pid}/smaps_rollup`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    total.rssKb += field('Rss');
    total.pssKb += field('Pss');
    total.processes++;
  }
  return total;
}
