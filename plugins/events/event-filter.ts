// Which events a subscriber sees: dockerd's event filters (type, event, container, image, label, ...).
import type { DockerEvent } from './event-bus.js';

export type Filters = Map<string, string[]>;

export const EVENT_FILTER_KEYS = [
  'config', 'container', 'daemon', 'event', 'image', 'label', 'network', 'node', 'plugin', 'scope',
  'secret', 'service', 'type', 'volume',
];

const byType = ['config', 'container', 'daemon', 'network', 'node', 'plugin', 'secret', 'service', 'volume'];

const matchesIdOrName = (values: string[], e: DockerEvent) =>
  values.some((v) => e.Actor.ID === v || e.Actor.ID.startsWith(v) || e.Actor.Attributes.name === v);

function matchesLabel(values: string[], e: DockerEvent): boolean {
  return values.every((v) => {
    const eq = v.indexOf('=');
    return eq < 0 ? v in e.Actor.Attributes : e.Actor.Attributes[v.slice(0, eq)] === v.slice(eq + 1);
  });
}

function matchesImage(values: string[], e: DockerEvent): boolean {
  const name = e.Type === 'image' ? e.Actor.Attributes.name : e.Actor.Attributes.image;
  const bare = (s: string | undefined) => s?.replace(/:[^:/]+$/, '');
  return values.some((v) => v === e.Actor.ID || v === name || bare(v) === bare(name) || (e.Type === 'image' && e.Actor.ID.startsWith(v)));
}

export function matchesFilters(e: DockerEvent, f: Filters): boolean {
  for (const [key, values] of f) {
    if (values.length === 0) continue;
    switch (key) {
      case 'type': if (!values.includes(e.Type)) return false; break;
      case 'event': if (!values.some((v) => e.Action === v || e.Action.startsWith(`${v}:`))) return false; break;
      case 'scope': if (!values.includes(e.scope)) return false; break;
      case 'label': if (!matchesLabel(values, e)) return false; break;
      case 'image': if (!matchesImage(values, e)) return false; break;
      default:
        if (byType.includes(key) && (e.Type !== key || !matchesIdOrName(values, e))) return false;
    }
  }
  return true;
}
