// max-size and max-file: conmon writes each log and outlives the daemon, so the daemon cannot cut
// the log as it writes it (as dockerd's json-file does). Instead it checks the size of every
// running container's log that has a max-size, once a CHECK_MS, and has the runtime rotate the
// ones that reached it. One stat per such container per check, run one after another: bounded
// cost with many containers. While the daemon is down a log just grows; nothing is lost, and the
// first check after start rotates it.
import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { RuntimesService } from '../../exec/index.js';
import type { Container } from '../records/index.js';
import { logConfigOf, rotationOf } from './log-config.js';
import type { ContainerStore } from '../records/index.js';

const CHECK_MS = 1000;
const MISSING_CHECKS = 3;

export class LogRotator {
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;
  private readonly warned = new Set<string>();
  /** Consecutive checks that found a running container's log missing. */
  private readonly missing = new Map<string, number>();

  constructor(private readonly o: { store: () => ContainerStore; runtimes: RuntimesService; log: Logger; intervalMs?: number }) {}

  start(): void {
    void this.check();
    this.timer = setInterval(() => void this.check(), this.o.intervalMs ?? CHECK_MS);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.checking;
  }

  /** One pass over the running containers; a pass still going makes this one a no-op. */
  check(): Promise<void> {
    this.checking ??= this.pass().catch((err) => this.o.log.warn({ err }, 'log rotation check failed')).finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async pass(): Promise<void> {
    for (const c of this.o.store().all()) {
      if (!c.State.Running || c.State.Restarting || !c.LogPath) continue;
      await this.rotateIfFull(c).catch((err) => this.o.log.warn({ err, container: c.Id }, 'cannot rotate container log'));
    }
  }

  private async rotateIfFull(c: Container): Promise<void> {
    const rotation = rotationOf(logConfigOf(c.HostConfig));
    if (!rotation) return;
    const size = await stat(c.LogPath).then((s) => s.size, () => undefined);
    // No log while running: a daemon that died between its rename and the monitor's reopen. The
    // monitor still writes the renamed file; after a few checks it is asked to start a new log.
    const misses = size === undefined ? (this.missing.get(c.Id) ?? 0) + 1 : 0;
    if (misses && misses < MISSING_CHECKS) this.missing.set(c.Id, misses);
    else this.missing.delete(c.Id);
    if (size === undefined ? misses < MISSING_CHECKS : size < rotation.maxSize) return;
    const runtime = (c.HostConfig.Runtime as string | undefined) || undefined;
    const driver = await this.o.runtimes.get(runtime);
    if (!driver.rotateLog) {
      if (!this.warned.has(driver.name)) this.o.log.warn({ runtime: driver.name }, 'runtime cannot rotate logs (exec-driver API < 1.3): max-size is not applied');
      this.warned.add(driver.name);
      return;
    }
    // maxFiles 1 renames nothing: the monitor just starts the missing log.
    await driver.rotateLog(c.Id, size === undefined ? 1 : rotation.maxFiles);
    this.o.log.debug({ container: c.Id, size }, size === undefined ? 'container log reopened' : 'container log rotated');
  }
}
