// docker top as dockerd does it: the host's own ps (never a binary of the container's image),
// its rows kept when their PID is one of the container's cgroup.
import { execFile } from 'node:child_process';
import { invalid, systemError } from '../../../core/plugin-api.js';

export interface ProcessTable { Titles: string[]; Processes: string[][] }

/** ps options may not rename a column to PID (dockerd's validatePSArgs): the filter relies on it. */
export function checkPsArgs(psArgs: string): void {
  for (const m of psArgs.matchAll(/\s+([^\s]*)=\s*(PID[^\s]*)/g)) {
    if (m[1] !== 'pid') throw invalid(`specifying "${m[1]}=${m[2]}" is not allowed`);
  }
}

// Only ASCII white space separates ps columns (a command may hold other spaces).
const fields = (line: string) => line.split(/[ \t\n\v\f\r]+/).filter(Boolean);

export function parsePsOutput(output: string, pids: Set<number>): ProcessTable {
  const lines = output.split('\n');
  const titles = fields(lines[0] ?? '');
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw systemError("Couldn't find PID field in ps output");
  const table: ProcessTable = { Titles: titles, Processes: [] };
  const add = (f: string[]) => table.Processes.push([...f.slice(0, titles.length - 1), f.slice(titles.length - 1).join(' ')]);
  // Thread rows (ps -T / m) show "-" as PID: they belong to the process row above them.
  let inContainer = false;
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const f = fields(line);
    if (f[pidIndex] === '-') {
      if (inContainer) add(f);
      continue;
    }
    const pid = Number(f[pidIndex]);
    if (!Number.isInteger(pid)) throw systemError(`Unexpected pid '${f[pidIndex]}'`);
    inContainer = pids.has(pid);
    if (inContainer) add(f);
  }
  return table;
}

export function runPs(psArgs: string, pids: number[]): Promise<ProcessTable> {
  checkPsArgs(psArgs);
  const args = psArgs.split(' ').filter(Boolean);
  return new Promise((resolve, reject) => {
    execFile('ps', args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        // The first line of ps's complaint says why (bad option), as dockerd reports it.
        const why = String(stderr).split('\n')[0] || err.message;
        return reject(systemError(`ps: ${why}`, err));
      }
      try {
        resolve(parsePsOutput(String(stdout), new Set(pids)));
      } catch (e) {
        reject(e);
      }
    });
  });
}
