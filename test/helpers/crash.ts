// What a killed daemon could leave on the host, seen from outside: the runtime's containers under
// its --root, processes, cgroups and mounts. Only one test's own are looked at, by its folders
// and its containers' ids.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The runc --root of a daemon whose folders are under `dir` (startDaemon's layout). */
export const runtimeRootOf = (dir: string) => join(dir, 'exec', 'runtimes', 'runc', 'runtime');

/** Container ids runc holds under `runtimeRoot`. */
export function runcList(runtimeRoot: string): string[] {
  try {
    return readdirSync(runtimeRoot);
  } catch {
    return [];
  }
}

/** Every process that is the test's: conmon and runc mention `dir`; container processes (runc
 * init, sleep) sit in a cgroup named after one of `ids`. */
export function ownProcesses(dir: string, ids: Iterable<string>): string[] {
  const list = [...ids];
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      const cg = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      if (cmd.includes(dir) || list.some((id) => cg.includes(id))) found.push(`${pid} ${cmd.slice(0, 120)}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** The cgroups (v2, or each v1 hierarchy) named after one of `ids`. */
export function cgroupsOf(ids: Iterable<string>): string[] {
  const roots = existsSync('/sys/fs/cgroup/cgroup.controllers') ? ['/sys/fs/cgroup'] : readdirSync('/sys/fs/cgroup').map((c) => join('/sys/fs/cgroup', c));
  return roots.flatMap((r) => [...ids].map((id) => join(r, 'berth', id))).filter((p) => existsSync(p));
}

/** Mount points under `root`. */
export const mountsOf = (root: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m?.startsWith(root));
