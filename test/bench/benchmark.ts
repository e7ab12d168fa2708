// What a benchmark is: a named function that measures one daemon and returns figures by metric key.
import type { DaemonSpec } from './daemons.js';

export type Figures = Record<string, number>;

export interface Benchmark {
  name: string;
  /** Metric keys it produces (see metrics.ts), so a failure can be shown against each. */
  metrics: string[];
  run: (spec: DaemonSpec) => Promise<Figures>;
  /** Daemon names (DaemonSpec.name) it runs against; all when absent. */
  only?: string[];
}

/** Thrown when some of a benchmark's metrics were measured and others failed: keeps the former. */
export class PartialFailure extends Error {
  constructor(message: string, readonly figures: Figures) {
    super(message);
  }
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
