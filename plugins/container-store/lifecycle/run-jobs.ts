// The jobs that run containers: start, stop, kill, restart, wait, attach (logs: logs-job.ts).
import { constants } from 'node:os';
import type { Duplex } from 'node:stream';
import { invalid, type PluginContext } from '../../../core/plugin-api.js';
import type { RuntimesService } from '../../exec/index.js';
import type { ContainerRuntime } from './lifecycle.js';
import type { ContainerStore } from '../records/index.js';

const nameProp = { name: { type: 'string', minLength: 1 } };

/** moby's signal.ParseSignal: a name (with or without SIG) or a number, else dockerd's 400. */
function parseStopSignal(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const known = constants.signals as Record<string, number>;
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (n > 0 && n <= 64) return raw;
  } else {
    const name = raw.toUpperCase().startsWith('SIG') ? raw.toUpperCase() : `SIG${raw.toUpperCase()}`;
    if (name in known || /^SIGRTM(IN|AX)([+-]\d+)?$/.test(name)) return name;
  }
  throw invalid(`Invalid signal: ${raw}`);
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
  e.register<{ name: string; t?: number; signal?: string }, void>('container.stop', {
    description: 'stops a container: its stop signal (or `signal`), then SIGKILL after the timeout (docker stop)',
    schema: { type: 'object', required: ['name'], properties: { ...nameProp, t: { type: 'integer' }, signal: { type: 'string' } } },
    run: (job) => {
      const c = store().get(job.payload.name);
      return runtime().stop(c, job.payload.t, (ev) => job.emit(ev), false, parseStopSignal(job.payload.signal));
    },
  });
  e.register<{ name: string; signal?: string }, void>('container.kill', {
    description: 'sends a signal to a container (docker kill)',
    schema: { type: 'object', required: ['name'], properties: { ...nameProp, signal: { type: 'string' } } },
    run: (job) => runtime().kill(store().get(job.payload.name), job.payload.signal || 'SIGKILL', (ev) => job.emit(ev)),
  });
  e.register<{ name: string; t?: number; signal?: string }, void>('container.restart', {
    description: 'stops and starts a container (docker restart)',
    schema: { type: 'object', required: ['name'], properties: { ...nameProp, t: { type: 'integer' }, signal: { type: 'string' } } },
    run: async (job) => {
      const c = store().get(job.payload.name);
      const signal = parseStopSignal(job.payload.signal);
      // Marked while it runs: a logs follower does not take the stop for the end.
      runtime().restartJobs.add(c.Id);
      try {
        if (c.State.Running) {
          await runtime().stop(c, job.payload.t, (ev) => job.emit(ev), false, signal).catch((err) => {
            // Another client stopped it meanwhile: what is left is the start.
            if ((err as { code?: string }).code !== 'E_NOT_MODIFIED') throw err;
          });
        }
        await runtime().start(store().get(c.Id), (ev) => job.emit(ev));
      } finally {
        runtime().restartJobs.delete(c.Id);
      }
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
    // socket is the hijacked connection (a Duplex), detachKeys a Buffer: objects, as far as JSON Schema sees.
    schema: {
      type: 'object', required: ['name', 'stdin', 'stdout', 'stderr', 'socket'],
      properties: {
        ...nameProp, stdin: { type: 'boolean' }, stdout: { type: 'boolean' }, stderr: { type: 'boolean' },
        socket: { type: 'object' }, detachKeys: { type: 'object' },
      },
    },
    run: (job) => {
      const { name, socket, ...streams } = job.payload;
      return runtime().attach(store().get(name), { socket, ...streams }, (ev) => job.emit(ev));
    },
  });
}
