// The JSON progress messages the CLI draws as bars (the jsonmessage format dockerd writes).

export type Out = (msg: object) => void;

/** Go's units.HumanSize: decimal units, four significant digits (19.97kB, 1.984MB). */
export function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

/** The "[=====>    ]  1.2MB/3.4MB" text that goes with progressDetail. */
export function progressBar(current: number, total: number): string {
  if (total <= 0) return humanSize(current).padStart(8);
  const pct = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2));
  const box = `[${'='.repeat(pct)}>${' '.repeat(50 - pct)}] `;
  return current > total ? `${box}${humanSize(current).padStart(8)}` : `${box}${humanSize(current).padStart(8)}/${humanSize(total)}`;
}

export const status = (out: Out, id: string, text: string) => out({ status: text, progressDetail: {}, id });

/**
 * Progress at most every 1% and every 100 ms (as dockerd's progress reader), and at the end, so a
 * large layer does not flood the stream (nor the daemon's thread with writes).
 */
export function progressReporter(out: Out, id: string, text: string, total: number, now = () => performance.now()): (current: number) => void {
  let last = -1;
  let lastAt = -Infinity;
  return (current) => {
    const step = total > 0 ? Math.floor((current / total) * 100) : Math.floor(current / (512 * 1024));
    if (current !== total && (step === last || now() - lastAt < 100)) return;
    last = step;
    lastAt = now();
    out({ status: text, progressDetail: { current, total }, progress: progressBar(current, total), id });
  };
}
