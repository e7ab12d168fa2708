// Docker events: a bounded in-memory history (dockerd keeps the last 256) and live subscribers.
import type { JobEvent } from '../../core/plugin-api.js';

export interface DockerEvent {
  status?: string;
  id?: string;
  from?: string;
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: string;
  time: number;
  timeNano: number;
}

const HISTORY = 256;

/** Nanoseconds since the epoch, as dockerd stamps events. */
function nowNano(): bigint {
  return BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
}

export function toDockerEvent(e: JobEvent, nano = nowNano()): DockerEvent {
  const ev: DockerEvent = {
    Type: e.Type,
    Action: e.Action,
    Actor: { ID: e.Actor.ID, Attributes: { ...e.Actor.Attributes } },
    scope: e.scope ?? 'local',
    time: Number(nano / 1_000_000_000n),
    timeNano: Number(nano),
  };
  // The pre-1.22 fields that container and image events still carry.
  if (e.Type === 'container' || e.Type === 'image') {
    return { status: e.Action, id: e.Actor.ID, ...(e.Type === 'container' && e.Actor.Attributes.image ? { from: e.Actor.Attributes.image } : {}), ...ev };
  }
  return ev;
}

export class EventBus {
  private readonly history: DockerEvent[] = [];
  private readonly subscribers = new Set<(e: DockerEvent) => void>();

  publish(e: JobEvent): DockerEvent {
    const ev = toDockerEvent(e);
    this.history.push(ev);
    if (this.history.length > HISTORY) this.history.shift();
    for (const s of this.subscribers) s(ev);
    return ev;
  }

  /** Past events from `sinceNano` on, then live ones; returns the unsubscribe function. */
  subscribe(fn: (e: DockerEvent) => void): { past: (sinceNano: number) => DockerEvent[]; close: () => void } {
    this.subscribers.add(fn);
    return {
      past: (sinceNano) => this.history.filter((e) => e.timeNano >= sinceNano),
      close: () => this.subscribers.delete(fn),
    };
  }

  get listeners(): number {
    return this.subscribers.size;
  }
}
