// A container's network namespace, made before its runtime starts: a file under the exec root
// that holds the namespace by a bind mount (as `ip netns` does), so it outlives processes and a
// daemon restart; unmounting it destroys the namespace and the interfaces inside.
import { existsSync } from 'node:fs';
import { mkdir, open, readlink, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { namesIn, run } from '../../lib/host-cmd.js';

export class NetnsFiles {
  constructor(readonly dir: string) {}

  pathFor(containerId: string): string {
    return join(this.dir, containerId.slice(0, 12));
  }

  /** A new namespace with its loopback up; an existing one (a live restore) is kept. */
  async create(containerId: string): Promise<string> {
    const path = this.pathFor(containerId);
    if (existsSync(path) && await this.isMounted(path)) return path;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await (await open(path, 'w', 0o600)).close();
    try {
      // The namespace's first command brings its loopback up.
      await run('unshare', [`--net=${path}`, 'ip', 'link', 'set', 'lo', 'up']);
    } catch (err) {
      await this.remove(path);
      throw err;
    }
    return path;
  }

  async remove(path: string): Promise<void> {
    await run('umount', [path]).catch(() => {});
    await rm(path, { force: true });
  }

  async isMounted(path: string): Promise<boolean> {
    return run('nsenter', [`--net=${path}`, 'true']).then(() => true, () => false);
  }

  /** Whether any process lives in the namespace (a stopped container's is held by its file only);
   * `live` is the set from namespacesInUse, read once for many checks. */
  async hasProcesses(path: string, live: Set<string>): Promise<boolean> {
    const ino = (await stat(path).catch(() => null))?.ino;
    return ino !== undefined && live.has(`net:[${ino}]`);
  }

  /** The network namespaces of every process on the host. */
  async namespacesInUse(): Promise<Set<string>> {
    const out = new Set<string>();
    for (const pid of await namesIn('/proc')) {
      if (/^\d+$/.test(pid)) out.add(await readlink(`/proc/${pid}/ns/net`).catch(() => ''));
    }
    return out;
  }

  /** Namespace files whose container no longer holds them (a crash between start and record). */
  async leaked(keep: Set<string>): Promise<string[]> {
    return (await namesIn(this.dir)).map((n) => join(this.dir, n)).filter((p) => !keep.has(p));
  }
}
