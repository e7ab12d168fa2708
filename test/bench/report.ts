// Turns the figures into the printed tables and the JSON document.
import type { Figures } from './benchmark.js';
import { METRICS, TARGETS, type MetricDef } from './metrics.js';

export type Side = 'berth' | 'dockerd' | 'runc';

export interface Results {
  berth: Figures;
  dockerd: Figures;
  /** Bare runc, the floor under both daemons (container run times). */
  runc: Figures;
  /** measured: dockerd ran here; reference: figures from metrics.ts. */
  dockerdSource: 'measured' | 'reference';
  dockerdVersion?: string;
  referenceDescription?: string;
  /** Metric key to error message, per daemon, for benchmarks that failed. */
  failed: Record<Side, Record<string, string>>;
  errors: { daemon: string; benchmark: string; message: string }[];
}

/** First line of an error, plus the daemon's last output line when the message carries its log. */
function summary(message: string): string {
  const lines = message.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length > 1 ? `${lines[0]} (last output: ${lines[lines.length - 1]})` : lines[0] ?? '';
}

function fmt(m: MetricDef, v: number | undefined, failed?: string): string {
  if (v === undefined) return failed ? 'error' : 'n/a';
  const n = v.toFixed(m.digits);
  return m.unit ? `${n} ${m.unit}` : n;
}

function ratio(b: number | undefined, d: number | undefined): string {
  return b === undefined || d === undefined || d === 0 ? 'n/a' : b / d >= 10 ? (b / d).toFixed(1) : (b / d).toFixed(2);
}

function table(rows: string[][], rightAligned: boolean[]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (rightAligned[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ');
  const rule = widths.map((w) => '-'.repeat(w)).join('-+-');
  return [line(rows[0]), rule, ...rows.slice(1).map(line)].join('\n') + '\n';
}

function verdict(r: Results, metric: string, check: (b: number, d: number | undefined) => boolean | undefined): string {
  const b = r.berth[metric];
  if (b === undefined) return 'n/a';
  const ok = check(b, r.dockerd[metric]);
  return ok === undefined ? 'n/a' : ok ? 'pass' : 'miss';
}

export function formatReport(r: Results): string {
  const dockerdHead = r.dockerdSource === 'measured' ? 'dockerd (measured)' : 'dockerd (reference)';
  const shown = (m: MetricDef, side: Side) => r[side][m.key] !== undefined || r.failed[side][m.key] !== undefined;
  const withRunc = METRICS.some((m) => shown(m, 'runc'));
  const metricRows = METRICS
    .filter((m) => shown(m, 'berth') || shown(m, 'dockerd') || shown(m, 'runc'))
    .map((m) => [
      m.label,
      fmt(m, r.berth[m.key], r.failed.berth[m.key]),
      fmt(m, r.dockerd[m.key], r.failed.dockerd[m.key]),
      ...(withRunc ? [fmt(m, r.runc[m.key], r.failed.runc[m.key])] : []),
      ratio(r.berth[m.key], r.dockerd[m.key]),
    ]);
  const byKey = new Map(METRICS.map((m) => [m.key, m]));
  const targetRows = TARGETS.filter((t) => shown(byKey.get(t.metric)!, 'berth') || shown(byKey.get(t.metric)!, 'dockerd')).map((t) => {
    const m = byKey.get(t.metric)!;
    return [
      t.name, fmt(m, r.berth[t.metric], r.failed.berth[t.metric]), fmt(m, r.dockerd[t.metric], r.failed.dockerd[t.metric]),
      ratio(r.berth[t.metric], r.dockerd[t.metric]), verdict(r, t.metric, t.check),
    ];
  });
  let out = '\n';
  out += r.dockerdSource === 'measured'
    ? `dockerd: measured here (${r.dockerdVersion ?? 'version unknown'})\n`
    : `dockerd: not installed; its column shows reference figures (${r.referenceDescription})\n`;
  const head = ['metric', 'Berth', dockerdHead, ...(withRunc ? ['bare runc'] : []), 'ratio Berth/dockerd'];
  out += '\n' + table([head, ...metricRows], head.map((_, i) => i > 0));
  if (targetRows.length) out += '\n' + table([['target', 'Berth', dockerdHead, 'ratio Berth/dockerd', 'result'], ...targetRows], [false, true, true, true, false]);
  if (r.errors.length) out += '\nerrors:\n' + r.errors.map((e) => `  ${e.daemon} ${e.benchmark}: ${summary(e.message)}\n`).join('');
  return out;
}

export function reportJson(r: Results, host: Record<string, unknown>): unknown {
  return {
    date: new Date().toISOString(),
    host,
    dockerd: { source: r.dockerdSource, version: r.dockerdVersion, reference: r.referenceDescription },
    metrics: METRICS.map((m) => ({
      key: m.key, label: m.label, unit: m.unit,
      berth: r.berth[m.key] ?? null,
      dockerd: r.dockerd[m.key] ?? null,
      runc: r.runc[m.key] ?? null,
      ratio: r.berth[m.key] !== undefined && r.dockerd[m.key] ? r.berth[m.key] / r.dockerd[m.key] : null,
    })),
    targets: TARGETS.map((t) => ({ name: t.name, metric: t.metric, result: verdict(r, t.metric, t.check) })),
    errors: r.errors,
  };
}
