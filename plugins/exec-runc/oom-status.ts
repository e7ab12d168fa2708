// Whether a container was killed by the OOM killer, best effort: conmon creates an `oom` file in
// its persist dir (and its working folder, the bundle) when the cgroup's OOM event fires; while
// the cgroup still exists, cgroup v1's memory.oom_control "oom_kill N" and v2's memory.events
// "oom_kill N" say the same.
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';

const exists = (p: string) => access(p).then(() => true, () => false);

async function cgroupOomKills(cgroupsPath: string): Promise<number> {
  for (const file of [join('/sys/fs/cgroup/memory', cgroupsPath, 'memory.oom_control'), join('/sys/fs/cgroup', cgroupsPath, 'memory.events')]) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const m = /^oom_kill (\d+)$/m.exec(text);
    if (m) return Number(m[1]);
  }
  return 0;
}

export async function wasOomKilled(opts: { persistDir: string; bundle?: string; cgroupsPath?: string }): Promise<boolean> {
  if (await exists(join(opts.persistDir, 'oom'))) return true;
  if (opts.bundle && (await exists(join(opts.bundle, 'oom')))) return true;
  return opts.cgroupsPath ? (await cgroupOomKills(opts.cgroupsPath)) > 0 : false;
}
