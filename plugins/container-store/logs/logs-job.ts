// The container.logs job (docker logs): the runtime's reader, framed for the client (raw for a
// TTY), timestamps as dockerd prints them, and a follow that lasts across restarts.
import type { PluginContext } from '../../../core/plugin-api.js';
import type { RuntimesService } from '../../exec/index.js';
import { frame, STDERR, STDOUT } from '../../../lib/stdcopy.js';
import type { ContainerRuntime } from '../lifecycle/index.js';
import { logConfigOf } from './log-config.js';
import type { ContainerStore } from '../records/index.js';

export interface LogsPayload {
  name: string; stdout?: boolean; stderr?: boolean; follow?: boolean; timestamps?: boolean;
  since?: number; until?: number; tail?: number;
}

/** After the container stopped for good, this long for the monitor's last lines to be read. */
const FINAL_READ_MS = 300;

/** dockerd's RFC3339NanoFixed in UTC ("2026-11-22T04:15:15.096790652Z") from conmon's local time. */
export function utcTimestamp(time: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return time;
  const whole = new Date(Date.parse(m[1] + m[3])).toISOString().slice(0, 19);
  return `${whole}.${(m[2] ?? '').padEnd(9, '0').slice(0, 9)}Z`;
}

/**
 * Resolves once the container has stopped for good: not running, not waiting out a restart
 * policy's back-off, not between the stop and the start of a restart job; or removed.
 */
export async function stoppedForGood(id: string, store: () => ContainerStore, runtime: () => ContainerRuntime, signal: AbortSignal): Promise<void> {
  for (;;) {
    const c = store().find(id);
    if (!c) return;
    if (c.State.Running || c.State.Restarting) {
      await runtime().wait(c, 'not-running', signal);
      continue;
    }
    if (!runtime().restartJobs.has(id)) return;
    await new Promise((r) => setTimeout(r, 100));
    if (signal.aborted) return;
  }
}

export function registerLogsJob(ctx: PluginContext, store: () => ContainerStore, runtime: () => ContainerRuntime, runtimes: RuntimesService): void {
  ctx.engine.register<LogsPayload, void>('container.logs', {
    description: 'the output of a container (docker logs): framed, or raw for a TTY',
    schema: {
      type: 'object', required: ['name'],
      properties: {
        name: { type: 'string', minLength: 1 },
        stdout: { type: 'boolean' }, stderr: { type: 'boolean' }, follow: { type: 'boolean' }, timestamps: { type: 'boolean' },
        // Seconds since the epoch, fractions allowed (docker logs --since 1700000000.5); tail: a line count.
        since: { type: 'number' }, until: { type: 'number' }, tail: { type: 'number' },
      },
    },
    run: async (job) => {
      const p = job.payload;
      const c = store().get(p.name);
      if (!p.stdout && !p.stderr) throw ctx.errors.invalid('You must choose at least one stream');
      if (logConfigOf(c.HostConfig).Type === 'none') throw ctx.errors.notImplemented('configured logging driver does not support reading');
      job.begin();
      if (!c.LogPath) return;
      const driver = await runtimes.get((c.HostConfig.Runtime as string | undefined) || undefined);
      const tty = Boolean(c.Config.Tty);
      // Following ends when the container stops for good (a restart does not end it), a moment
      // later so its last lines are read; or when the client leaves.
      let signal = job.signal;
      if (p.follow) {
        const stopped = new AbortController();
        signal = AbortSignal.any([job.signal, stopped.signal]);
        stoppedForGood(c.Id, store, runtime, signal).then(() => setTimeout(() => stopped.abort(), FINAL_READ_MS), () => {});
      }
      for await (const entry of driver.readLogs(c.LogPath, { since: p.since, until: p.until, tail: p.tail, follow: p.follow, signal })) {
        if ((entry.stream === 'stdout' && !p.stdout) || (entry.stream === 'stderr' && !p.stderr)) continue;
        const text = entry.partial ? entry.line : Buffer.concat([entry.line, Buffer.from('\n')]);
        const payload = p.timestamps ? Buffer.concat([Buffer.from(`${utcTimestamp(entry.time)} `), text]) : text;
        job.stdout.write(tty ? payload : frame(entry.stream === 'stdout' ? STDOUT : STDERR, payload));
      }
    },
  });
}
