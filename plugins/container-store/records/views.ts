// What the API returns for containers: inspect, and the summaries of GET /containers/json.
import { invalid } from '../../../core/plugin-api.js';
import type { Container } from './container.js';
import { parsePortFilter } from '../../../lib/port-filter.js';

export const CONTAINER_LIST_FILTERS = [
  'ancestor', 'before', 'expose', 'exited', 'health', 'id', 'isolation', 'is-task', 'label', 'name', 'network', 'publish', 'since', 'status', 'volume',
] as const;

const HEALTH_STATES = ['starting', 'healthy', 'unhealthy', 'none'];
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

export function inspectContainer(c: Container, graphData: Record<string, string> | null = null) {
  const { ImageTopLayer: _top, HasBeenManuallyStopped: _stopped, MountPoints: _mounts, ...shown } = c;
  return {
    ...shown,
    ResolvConfPath: c.ResolvConfPath,
    Mounts: [],
    NetworkSettings: { Bridge: '', SandboxID: '', Ports: {}, Networks: {} },
    GraphDriver: { Data: graphData, Name: c.Driver },
    SizeRw: undefined,
  };
}

/** "Up 5 minutes", "Exited (0) 2 seconds ago", "Created", as docker ps shows it. */
function statusText(c: Container): string {
  const ago = (iso: string) => {
    const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (s < 1) return 'Less than a second';
    if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
    const m = Math.round(s / 60);
    if (m < 60) return `${m} minute${m === 1 ? '' : 's'}`;
    const h = Math.round(m / 60);
    return h < 48 ? `${h} hour${h === 1 ? '' : 's'}` : `${Math.round(h / 24)} days`;
  };
  switch (c.State.Status) {
    case 'running': return `Up ${ago(c.State.StartedAt)}${c.State.Paused ? ' (Paused)' : healthText(c)}`;
    case 'paused': return `Up ${ago(c.State.StartedAt)} (Paused)`;
    case 'exited': return `Exited (${c.State.ExitCode}) ${ago(c.State.FinishedAt)} ago`;
    case 'restarting': return `Restarting (${c.State.ExitCode}) ${ago(c.State.FinishedAt)} ago`;
    case 'created': return 'Created';
    default: return c.State.Status[0].toUpperCase() + c.State.Status.slice(1);
  }
}

/** " (healthy)", " (health: starting)", as dockerd's State.String() adds it. */
function healthText(c: Container): string {
  const status = c.State.Health?.Status;
  return status ? ` (${status === 'starting' ? 'health: starting' : status})` : '';
}

export function containerSummary(c: Container, imageName: string) {
  return {
    Id: c.Id,
    Names: [c.Name],
    Image: imageName,
    ImageID: c.Image,
    Command: [c.Path, ...c.Args].join(' '),
    Created: Math.floor(Date.parse(c.Created) / 1000),
    Ports: [],
    Labels: c.Config.Labels ?? {},
    State: c.State.Status,
    Status: statusText(c),
    HostConfig: { NetworkMode: c.HostConfig.NetworkMode ?? 'default' },
    NetworkSettings: { Networks: {} },
    Mounts: [],
  };
}

/** GET /containers/json filtering, as dockerd applies it. */
export function filterContainers(all: Container[], filters: Record<string, string[]>, opts: { all: boolean; imageMatches: (c: Container, ref: string) => boolean; find: (ref: string) => Container | undefined }): Container[] {
  for (const s of filters.status ?? []) if (!STATUSES.includes(s)) throw invalid(`Invalid filter 'status=${s}'`);
  for (const h of filters.health ?? []) if (!HEALTH_STATES.includes(h)) throw invalid(`Invalid filter 'health=${h}'`);
  const anchor = (key: string) => {
    const v = filters[key]?.[0];
    if (v === undefined) return undefined;
    const c = opts.find(v);
    if (!c) throw invalid(`No such container: ${v}`);
    return Date.parse(c.Created);
  };
  const before = anchor('before');
  const since = anchor('since');
  const expose = filters.expose?.length ? parsePortFilter('expose', filters.expose) : undefined;
  const showAll = opts.all || (filters.status?.length ?? 0) > 0 || (filters.exited?.length ?? 0) > 0;
  const matched = all
    .filter((c) => {
      if (!showAll && c.State.Status !== 'running' && c.State.Status !== 'paused' && c.State.Status !== 'restarting') return false;
      if (filters.status?.length && !filters.status.includes(c.State.Status)) return false;
      if (filters.exited?.length && !(c.State.Status === 'exited' && filters.exited.includes(String(c.State.ExitCode)))) return false;
      if (filters.health?.length && !filters.health.includes(c.State.Health?.Status ?? 'none')) return false;
      if (filters.id?.length && !filters.id.some((p) => c.Id.startsWith(p))) return false;
      if (filters.name?.length && !filters.name.some((n) => new RegExp(n).test(c.Name.slice(1)))) return false;
      if (filters.ancestor?.length && !filters.ancestor.some((a) => opts.imageMatches(c, a))) return false;
      const labels = c.Config.Labels ?? {};
      for (const l of filters.label ?? []) {
        const eq = l.indexOf('=');
        if (eq < 0 ? !(l in labels) : labels[l.slice(0, eq)] !== l.slice(eq + 1)) return false;
      }
      // expose: a port the container exposes or publishes (its container side).
      if (expose && !containerPorts(c).some((p) => expose.has(p))) return false;
      // volume: the volume plugin's (through the listFilter hook).
      if (before !== undefined && Date.parse(c.Created) >= before) return false;
      if (since !== undefined && Date.parse(c.Created) <= since) return false;
      return true;
    });
  // Newest first. Each date parsed once: Date.parse of an RFC 3339 nano string is slow, and in the
  // comparator it ran n log n times a list (a second of the event loop's CPU in the soak).
  const created = new Map(matched.map((c) => [c, Date.parse(c.Created)]));
  return matched.sort((a, b) => created.get(b)! - created.get(a)!);
}

/** "80/tcp" keys of the ports a container exposes or publishes. */
function containerPorts(c: Container): string[] {
  const keys = [...Object.keys(c.Config.ExposedPorts ?? {}), ...Object.keys((c.HostConfig.PortBindings ?? {}) as object)];
  return keys.map((k) => (k.includes('/') ? k.toLowerCase() : `${k}/tcp`));
}
