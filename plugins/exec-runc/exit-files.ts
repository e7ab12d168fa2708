// Exit files: conmon writes EXIT_DIR/<id> (the exit code as text; 128+N for a signal) when the
// container ends, whether or not the daemon is running. One watcher per folder serves every
// waiter: fs.watch for speed, a poll because inotify can miss events (overlay, NFS, restarts).
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isMissing } from '../../lib/host-cmd.js';

export interface ExitRecord { exitCode: number; finishedAt: string }

const POLL_MS = 500;

/** RFC 3339 with nanoseconds from a stat's mtime. */
export function rfc3339Nano(mtimeNs: bigint): string {
  const ms = Number(mtimeNs / 1000000n);
  const ns = (mtimeNs % 1000000000n).toString().padStart(9, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${ns}Z`;
}

export async function readExitFile(dir: string, id: string): Promise<ExitRecord | null> {
  const path = join(dir, id);
  try {
    const [text, st] = await Promise.all([readFile(path, 'utf8'), stat(path, { bigint: true })]);
    const code = Number.parseInt(text.trim(), 10);
    return { exitCode: Number.isNaN(code) ? -1 : code, finishedAt: rfc3339Nano(st.mtimeNs) };
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

export class ExitWatcher {
  private waiters = new Map<string, Set<(r: ExitRecord) => void>>();
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;

  constructor(private readonly dir: string) {}

  wait(id: string): Promise<ExitRecord> {
    return new Promise((resolve, reject) => {
      let set = this.waiters.get(id);
      if (!set) this.waiters.set(id, (set = new Set()));
      set.add(resolve);
      this.arm();
      this.check(id).catch(reject);
    });
  }

  private arm() {
    if (!this.watcher) {
      try {
        this.watcher = watch(this.dir, (_event, name) => {
          if (name && this.waiters.has(name.toString())) void this.check(name.toString()).catch(() => undefined);
        });
        this.watcher.on('error', () => this.disarmWatch());
      } catch {
        // the poll below still works
      }
    }
    this.timer ??= setInterval(() => {
      for (const id of this.waiters.keys()) void this.check(id).catch(() => undefined);
    }, POLL_MS);
  }

  private disarmWatch() {
    this.watcher?.close();
    this.watcher = undefined;
  }

  private async check(id: string) {
    const record = await readExitFile(this.dir, id);
    const set = this.waiters.get(id);
    if (!record || !set) return;
    this.waiters.delete(id);
    for (const resolve of set) resolve(record);
    if (this.waiters.size === 0) this.close();
  }

  close() {
    this.disarmWatch();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
