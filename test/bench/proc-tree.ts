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

interface Table {
  stats: Map<number, Stat>;
  children: Map<number, number[]>;
}

function processTable(): Table {
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
  return { stats, children };
}

function treesIn(t: Table, roots: number[]): ProcId[] {
  const out: ProcId[] = [];
  const seen = new Set<number>();
  const queue = roots.filter((r) => t.stats.has(r));
  while (queue.length) {
    const pid = queue.shift()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const s = t.stats.get(pid)!;
    if (s.state !== 'Z') out.push({ pid, start: s.start });
    queue.push(...(t.children.get(pid) ?? []));
  }
  return out;
}

/** The root and all its descendants, found through the ppid of every process in /proc. */
export function processTree(root: number): ProcId[] {
  return treesIn(processTable(), [root]);
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

export function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

export interface Family {
  /** The root's tree plus every process whose command line names `marker`, and their trees. */
  all: ProcId[];
  /** Processes whose command line names `marker` and whose comm passes isMonitor (conmon, shims). */
  monitors: ProcId[];
  /** Descendants of the monitors: the containers' own processes. */
  containers: ProcId[];
}

/**
 * A daemon's whole family: monitors such as conmon or containerd shims daemonize (their parent
 * becomes pid 1), so they are found by a marker in their command line (the daemon's folder).
 */
export function processFamily(root: number, marker: string, isMonitor: (comm: string) => boolean): Family {
  const t = processTable();
  const named = [...t.stats.keys()].filter((pid) => pid !== process.pid && cmdline(pid).includes(marker));
  const monitorPids = named.filter((pid) => isMonitor(comm(pid)));
  const childPids = monitorPids.flatMap((pid) => t.children.get(pid) ?? []);
  const all = treesIn(t, [root, ...named]);
  const containers = treesIn(t, childPids);
  const monitors = monitorPids.flatMap((pid) => (t.stats.get(pid)!.state === 'Z' ? [] : [{ pid, start: t.stats.get(pid)!.start }]));
  return { all, monitors, containers };
}

/** The cgroup folders (one per v1 hierarchy, or the v2 one) a process is in, as paths under /sys/fs/cgroup. */
export function cgroupDirs(pid: number): string[] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').flatMap((line) => {
    const [, controllers, path] = line.split(':');
    if (!path || path === '/') return [];
    const dir = controllers === '' ? '/sys/fs/cgroup/unified' : `/sys/fs/cgroup/${controllers.replace(/^name=/, '')}`;
    return [`${dir}${path}`];
  });
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
