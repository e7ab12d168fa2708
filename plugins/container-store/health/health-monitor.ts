// Healthchecks as dockerd runs them (daemon/health.go): while a container runs unpaused, its probe
// is exec'd in it every interval; the results make State.Health (starting, healthy, unhealthy),
// saved with the container, and each change of status is a `health_status: <status>` event.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { JobEvent } from '../../../core/plugin-api.js';
import type { ExitInfo } from '../../exec/index.js';
import type { RuntimesService } from '../../exec/index.js';
import { resolveUser } from '../../../lib/resolve-user.js';
import type { GraphService } from '../../graph/index.js';
import type { Container, ContainerHealth, HealthLogEntry } from '../records/index.js';
import { goDuration, healthTimings, MAX_LOG_ENTRIES, MAX_OUTPUT_LEN, probeCommand } from './health-config.js';
import type { LifecycleObserver } from '../lifecycle/index.js';
import { containerEnv } from '../lifecycle/index.js';
import type { ContainerStore } from '../records/index.js';

export interface HealthMonitorDeps {
  store: () => ContainerStore;
  runtimes: RuntimesService;
  graph: GraphService;
  log: Logger;
  /** Publishes an event outside any job. */
  publish: (e: JobEvent) => void;
  event: (c: Container, action: string, extra?: Record<string, string>) => JobEvent;
}

// dockerd gives a wedged exec this long to start before the probe counts as failed.
const EXEC_START_TIMEOUT_MS = 30_000;
// After the kill of a probe past its timeout, how long its exit may take to be reported.
const KILL_GRACE_MS = 10_000;

type ProbeResult = Omit<HealthLogEntry, 'Start'>;

/** Output kept up to MAX_OUTPUT_LEN bytes, "..." marking that more was dropped. */
class LimitedOutput {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private truncated = false;

  write(data: Buffer): void {
    const keep = Math.min(MAX_OUTPUT_LEN - this.size, data.length);
    if (keep > 0) { this.chunks.push(data.subarray(0, keep)); this.size += keep; }
    if (keep < data.length) this.truncated = true;
  }

  toString(): string {
    return Buffer.concat(this.chunks).toString('utf8') + (this.truncated ? '...' : '');
  }
}

export class HealthMonitor implements LifecycleObserver {
  /** One monitor per container at most: aborting it stops its timer and kills a probe in flight. */
  private readonly monitors = new Map<string, AbortController>();

  constructor(private readonly deps: HealthMonitorDeps) {}

  started(c: Container): void {
    if (!probeCommand(c.Config.Healthcheck, c.Config.Shell)) return;
    this.close(c.Id);
    c.State.Health = { Status: 'starting', FailingStreak: 0, Log: c.State.Health?.Log ?? [] };
    this.open(c);
  }

  stopped(c: Container): void {
    // As dockerd: a monitor that stops leaves the status unhealthy ("for compatibility reasons").
    if (this.close(c.Id) && c.State.Health) c.State.Health = { ...c.State.Health, Status: 'unhealthy' };
  }

  resumed(c: Container): void {
    if (!c.State.Health || !probeCommand(c.Config.Healthcheck, c.Config.Shell)) return;
    this.open(c);
  }

  /** Daemon shutdown: timers and probes in flight are dropped, the containers keep running. */
  closeAll(): void {
    for (const id of [...this.monitors.keys()]) this.close(id);
  }

  private close(id: string): boolean {
    const m = this.monitors.get(id);
    if (!m) return false;
    m.abort();
    this.monitors.delete(id);
    return true;
  }

  private open(c: Container): void {
    if (this.monitors.has(c.Id) || !c.State.Running || c.State.Paused) return;
    const m = new AbortController();
    this.monitors.set(c.Id, m);
    this.loop(c.Id, m.signal)
      .catch((err) => this.deps.log.error({ err, container: c.Id }, 'health monitor failed'))
      .finally(() => { if (this.monitors.get(c.Id) === m) this.monitors.delete(c.Id); });
  }

  private async loop(id: string, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const c = this.deps.store().find(id);
      if (!c?.State.Running || c.State.Paused || !c.Config.Healthcheck) return;
      const waited = await sleep(this.nextInterval(c), true, { signal, ref: false }).catch(() => false);
      if (!waited || signal.aborted) return;
      const start = new Date().toISOString();
      const result = await this.probe(id, signal).catch((err): ProbeResult => {
        this.deps.log.warn({ err, container: id }, 'health check failed to run');
        return { End: new Date().toISOString(), ExitCode: -1, Output: (err as Error).message };
      });
      // A result that comes after the monitor was stopped is dropped, as dockerd drops it.
      if (signal.aborted) return;
      await this.record(id, { Start: start, ...result });
    }
  }

  /** dockerd's getInterval: the start interval while starting within the start period. */
  private nextInterval(c: Container): number {
    const t = healthTimings(c.Config.Healthcheck!);
    const elapsed = Date.now() - Date.parse(c.State.StartedAt);
    if (elapsed >= t.startPeriod) return t.interval;
    const remaining = t.startPeriod - elapsed;
    if (remaining < t.interval) return remaining;
    return c.State.Health?.Status === 'starting' ? t.startInterval : t.interval;
  }

  private async record(id: string, result: HealthLogEntry): Promise<void> {
    const c = this.deps.store().find(id);
    if (!c?.State.Running) return;
    const t = healthTimings(c.Config.Healthcheck!);
    const old = c.State.Health ?? { Status: 'starting', FailingStreak: 0, Log: [] };
    const next: ContainerHealth = { ...old, Log: [...old.Log, result].slice(-MAX_LOG_ENTRIES) };
    if (result.ExitCode === 0) {
      next.Status = 'healthy';
      next.FailingStreak = 0;
    } else {
      // While starting, failures within the start period do not count.
      const inStartPeriod = old.Status === 'starting' && Date.parse(result.Start) - Date.parse(c.State.StartedAt) < t.startPeriod;
      if (!inStartPeriod) {
        next.FailingStreak += 1;
        if (next.FailingStreak >= t.retries) next.Status = 'unhealthy';
      }
    }
    c.State = { ...c.State, Health: next };
    // A probe's result happened: a full disk delays its write (retried), it does not stop the monitor.
    await this.deps.store().record(c);
    if (next.Status !== old.Status) this.deps.publish(this.deps.event(c, `health_status: ${next.Status}`));
  }

  /** One run of the probe, exec'd as dockerd execs it: the container's user, env and working dir. */
  private async probe(id: string, signal: AbortSignal): Promise<ProbeResult> {
    const c = this.deps.store().get(id);
    const cmd = probeCommand(c.Config.Healthcheck, c.Config.Shell)!;
    const timeoutMs = healthTimings(c.Config.Healthcheck!).timeout;
    const driver = await this.deps.runtimes.get((c.HostConfig.Runtime as string | undefined) || undefined);
    const rootfs = await this.deps.graph.driver().get(c.Id);
    let user;
    try {
      user = await resolveUser(rootfs, c.Config.User || undefined, (c.HostConfig.GroupAdd as string[] | null) ?? []);
    } finally {
      await this.deps.graph.driver().put(c.Id);
    }
    const env = containerEnv(c, false);
    const execID = randomBytes(32).toString('hex');
    const { publish, event } = this.deps;
    publish(event(c, `exec_create: ${cmd.join(' ')}`, { execID }));
    const req = { execId: execID.slice(0, 32), args: cmd, env, cwd: c.Config.WorkingDir || '/', user, tty: false, openStdin: false };
    const { stdio, exited, pid } = await withTimeout(driver.exec(c.Id, req), EXEC_START_TIMEOUT_MS, `timed out starting health check for container ${c.Id}`);
    publish(event(c, `exec_start: ${cmd.join(' ')}`, { execID }));
    const output = new LimitedOutput();
    const drained = (async () => { for await (const chunk of stdio.output) output.write(chunk.data); })().catch(() => {});
    try {
      const outcome = await raceTimeout(exited, timeoutMs, signal);
      if (outcome === 'exited') {
        const exit = await exited;
        await Promise.race([drained, sleep(1000, undefined, { ref: false })]);
        publish(event(c, 'exec_die', { execID, exitCode: String(exit.exitCode) }));
        return { End: new Date().toISOString(), ExitCode: exit.exitCode, Output: output.toString() };
      }
      const killed = await killProbe(pid, exited);
      publish(event(c, 'exec_die', { execID, exitCode: String(killed?.exitCode ?? -1) }));
      const out = output.toString();
      const msg = `Health check exceeded timeout (${goDuration(timeoutMs)})`;
      return { End: new Date().toISOString(), ExitCode: -1, Output: out ? `${msg}: ${out}` : msg };
    } finally {
      stdio.close();
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(message)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** 'exited', or 'timeout' when the probe outlived its timeout or the monitor stopped. */
async function raceTimeout(exited: Promise<ExitInfo>, ms: number, signal: AbortSignal): Promise<'exited' | 'timeout'> {
  const ac = new AbortController();
  const stop = AbortSignal.any([signal, ac.signal]);
  try {
    return await Promise.race([
      exited.then(() => 'exited' as const, () => 'exited' as const),
      sleep(ms, 'timeout' as const, { signal: stop, ref: false }).catch(() => 'timeout' as const),
    ]);
  } finally {
    ac.abort();
  }
}

/** SIGKILL to the probe's process (dockerd kills it too), then a bounded wait for its exit. */
async function killProbe(pid: number | undefined, exited: Promise<ExitInfo>): Promise<ExitInfo | undefined> {
  if (pid && pid > 0) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  return Promise.race([exited.catch(() => undefined), sleep(KILL_GRACE_MS, undefined, { ref: false })]);
}
