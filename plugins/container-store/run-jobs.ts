// The jobs that run containers: start, stop, kill, restart, wait, logs.
import type { Duplex } from 'node:stream';
import type { PluginContext } from '../../core/plugins/context.js';
import type { RuntimesService } from '../exec/index.js';
import { frame, STDERR, STDOUT } from '../api-server/stdcopy.js';
import type { ContainerRuntime } from './lifecycle.js';
import type { ContainerStore } from './store.js';

const nameProp = { name: { type: 'string', minLength: 1 } };

export interface LogsPayload {
  name: string; stdout?: boolean; stderr?: boolean; follow?: boolean; timestamps?: boolean;
  since?: number; until?: number; tail?: number;
}

export function registerRunJobs(ctx: PluginContext, store: () => ContainerStore, runtime: () => ContainerRuntime, runtimes: RuntimesService): void {
  const e = ctx.engine;
  // Jobs that take only a container name and call one runtime operation.
  const simple: [name: 'start' | 'pause' | 'unpause', description: string][] = [
    ['start', 'starts a container (docker start)'],
    ['pause', 'freezes every process of a container (docker pause)'],
    ['unpause', 'thaws a paused container (docker unpause)'],
  ];
  for (const [name, description] of simple) {
    e.register<{ name: string }, void>(`container.${name}`, {
      description,
      schema: { type: 'object', required: ['name'], properties: nameProp },
      run: (job) => runtime()[name](store().get(job.payload.name), (ev) => job.emit(ev)),
    });
  }
  e.register<{ name: string; t?: number }, void>('container.stop', {
    description: 'stops a container: its stop signal, then SIGKILL after the timeout (docker stop)',
    schema: { type: 'object', required: ['name'], properties: { ...nameProp, t: { type: 'integer' } } },
    run: (job) => runtime().stop(store().get(job.payload.name), job.payload.t, (ev) => job.emit(ev)),
  });
  e.register<{ name: string; signal?: string }, void>('container.kill', {
    description: 'sends a signal to a container (docker kill)',
    schema: { type: 'object', required: ['name'], properties: { ...nameProp, signal: { type: 'string' } } },
    run: (job) => runtime().kill(store().get(job.payload.name), job.payload.signal || 'SIGKILL', (ev) => job.emit(ev)),
  });
  e.register<{ name: string; t?: number }, void>('container.restart', {
    description: 'stops and starts a container (docker restart)',
    schema: { type: 'object', required: ['name'], properties: { ...nameProp, t: { type: 'integer' } } },
    run: async (job) => {
      const c = store().get(job.payload.name);
      if (c.State.Running) await runtime().stop(c, job.payload.t, (ev) => job.emit(ev));
      await runtime().start(store().get(c.Id), (ev) => job.emit(ev));
      job.emit(runtime().event(c, 'restart'));
    },
  });
  e.register<{ name: string; condition?: 'not-running' | 'next-exit' | 'removed' }, { StatusCode: number; Error: null }>('container.wait', {
    description: 'waits for a container to stop (docker wait)',
    schema: { type: 'object', required: ['name'], properties: { ...nameProp, condition: { enum: ['not-running', 'next-exit', 'removed'] } } },
    run: async (job) => {
      const c = store().get(job.payload.name);
      job.begin();
      const code = await runtime().wait(c, job.payload.condition ?? 'not-running', job.signal);
      return { StatusCode: code, Error: null };
    },
  });
  e.register<{ name: string; stdin: boolean; stdout: boolean; stderr: boolean; socket: Duplex; detachKeys?: Buffer }, void>('container.attach', {
    description: 'connects a hijacked client connection to a container\'s stdio (docker attach)',
    run: (job) => {
      const { name, socket, ...streams } = job.payload;
      return runtime().attach(store().get(name), { socket, ...streams }, (ev) => job.emit(ev));
    },
  });
  e.register<LogsPayload, void>('container.logs', {
    description: 'the output of a container (docker logs): framed, or raw for a TTY',
    run: async (job) => {
      const p = job.payload;
      const c = store().get(p.name);
      if (!p.stdout && !p.stderr) throw ctx.errors.invalid('You must choose at least one stream');
      job.begin();
      if (!c.LogPath) return;
      const driver = await runtimes.get((c.HostConfig.Runtime as string | undefined) || undefined);
      const tty = Boolean(c.Config.Tty);
      // Following ends when the container stops (a moment later, so its last lines are read).
      let signal = job.signal;
      if (p.follow) {
        const stopped = new AbortController();
        signal = AbortSignal.any([job.signal, stopped.signal]);
        runtime().wait(c, 'not-running', signal).then(() => setTimeout(() => stopped.abort(), 300), () => {});
      }
      for await (const entry of driver.readLogs(c.LogPath, { since: p.since, until: p.until, tail: p.tail, follow: p.follow, signal })) {
        if ((entry.stream === 'stdout' && !p.stdout) || (entry.stream === 'stderr' && !p.stderr)) continue;
        const text = entry.partial ? entry.line : Buffer.concat([entry.line, Buffer.from('\n')]);
        const payload = p.timestamps ? Buffer.concat([Buffer.from(`${entry.time} `), text]) : text;
        job.stdout.write(tty ? payload : frame(entry.stream === 'stdout' ? STDOUT : STDERR, payload));
      }
    },
  });
}
