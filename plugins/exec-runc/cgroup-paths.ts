// Where a container's cgroup lives on this host. runc (cgroupfs driver) makes an absolute
// cgroupsPath (`/berth/<id>`) relative to each hierarchy's root: under cgroup v2 one folder in the
// unified mount; under v1 one folder per controller, wherever /proc/self/mountinfo says that
// controller is mounted (separately, or co-mounted as "cpu,cpuacct").
import { access, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

export type CgroupController = 'cpu' | 'cpuacct' | 'memory' | 'pids' | 'blkio' | 'cpuset';

export type CgroupLayout =
  | { version: 2; dir: string }
  | { version: 1; dirs: Partial<Record<CgroupController, string>> };

interface Hierarchy { mountPoint: string; root: string; fsType: string; options: string[] }

/** The cgroup mounts of this mount namespace (fields per proc(5) mountinfo). */
async function hierarchies(): Promise<Hierarchy[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text.split('\n').flatMap((line) => {
    const [left, right] = line.split(' - ');
    if (!right) return [];
    const f = left.split(' ');
    const [fsType, , superOptions = ''] = right.split(' ');
    if (fsType !== 'cgroup' && fsType !== 'cgroup2') return [];
    const unescape = (s: string) => s.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    return [{ mountPoint: unescape(f[4]), root: unescape(f[3]), fsType, options: superOptions.split(',') }];
  });
}

const exists = (p: string) => access(p).then(() => true, () => false);

/** cgroup v2 with its controllers in the unified hierarchy at /sys/fs/cgroup (not hybrid). */
export const isUnified = () => exists('/sys/fs/cgroup/cgroup.controllers');

function under(h: Hierarchy, cgroupsPath: string): string {
  // A hierarchy mounted from a sub-cgroup (cgroup namespace) shows paths below its root.
  const rel = h.root !== '/' && cgroupsPath.startsWith(`${h.root}/`) ? cgroupsPath.slice(h.root.length) : cgroupsPath;
  return join(h.mountPoint, rel);
}

export async function cgroupLayout(cgroupsPath: string): Promise<CgroupLayout> {
  const all = await hierarchies();
  if (await isUnified()) {
    const h = all.find((x) => x.fsType === 'cgroup2' && x.mountPoint === '/sys/fs/cgroup') ?? { mountPoint: '/sys/fs/cgroup', root: '/', fsType: 'cgroup2', options: [] };
    return { version: 2, dir: under(h, cgroupsPath) };
  }
  const dirs: Partial<Record<CgroupController, string>> = {};
  for (const ctrl of ['cpu', 'cpuacct', 'memory', 'pids', 'blkio', 'cpuset'] as const) {
    const h = all.find((x) => x.fsType === 'cgroup' && x.options.includes(ctrl));
    if (h) dirs[ctrl] = under(h, cgroupsPath);
  }
  return { version: 1, dirs };
}

/**
 * Removes a container's cgroup folders in every hierarchy. runc deletes them itself; this is for
 * a runtime that failed after making them (crun refusing a hybrid layout leaves them behind).
 * Only empty cgroups can go: one that still holds a process is left (EBUSY), never forced.
 */
export async function removeCgroup(cgroupsPath: string): Promise<void> {
  for (const h of await hierarchies()) {
    await rmdir(under(h, cgroupsPath)).catch(() => undefined);
  }
}
