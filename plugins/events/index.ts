// The events plugin: successful jobs' state changes become Docker events; the `events` job streams them.
import { definePlugin, invalid, type Job } from '../../core/plugin-api.js';
import { EventBus, type DockerEvent } from './event-bus.js';
import { matchesFilters, type Filters } from './event-filter.js';
import { parseTimestamp } from './timestamps.js';

export type { DockerEvent } from './event-bus.js';
export { EVENT_FILTER_KEYS } from './event-filter.js';

export interface EventsPayload {
  since?: string;
  until?: string;
  filters?: Record<string, string[]>;
}

export interface EventsService {
  bus: EventBus;
}

/** Writes matching past events, then live ones, as JSON lines to job.stdout until `until` or the job is aborted. */
async function streamEvents(bus: EventBus, job: Job<EventsPayload>): Promise<void> {
  const p = job.payload ?? {};
  const filters: Filters = new Map(Object.entries(p.filters ?? {}));
  const now = Date.now() * 1e6;
  const since = p.since ? parseTimestamp(p.since, 'since') : undefined;
  const until = p.until ? parseTimestamp(p.until, 'until') : undefined;
  if (since !== undefined && until !== undefined && until < since) {
    throw invalid(`since time (${p.since}) cannot be after until time (${p.until})`);
  }
  job.begin();
  const out = job.stdout;
  const write = (e: DockerEvent) => {
    if ((until === undefined || e.timeNano <= until) && matchesFilters(e, filters)) out.write(`${JSON.stringify(e)}\n`);
  };
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const sub = bus.subscribe(write);
    const finish = () => { sub.close(); clearTimeout(timer); resolve(); };
    if (since !== undefined) for (const e of sub.past(since)) write(e);
    if (until !== undefined) {
      if (until <= now) return finish();
      timer = setTimeout(finish, Math.ceil((until - now) / 1e6));
    }
    if (job.signal.aborted) return finish();
    job.signal.addEventListener('abort', finish, { once: true });
  });
}

export default definePlugin({
  init(ctx) {
    const bus = new EventBus();
    ctx.services.provide<EventsService>('events', { bus });
    ctx.hooks.jobRun.after.tap('publish', (job) => {
      if (job.status === 0) for (const e of job.events) bus.publish(e);
    });
    ctx.engine.register<EventsPayload, void>('events', {
      description: 'streams Docker events (JSON lines on stdout)',
      schema: {
        type: 'object',
        properties: {
          since: { type: 'string' },
          until: { type: 'string' },
          filters: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } },
        },
      },
      run: (job) => streamEvents(bus, job),
    });
  },
});
