// Job counts and duration histograms by job name, fed by the jobRun.after hook.
const BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

interface Series {
  ok: number;
  error: number;
  buckets: number[];
  sum: number;
  count: number;
}

const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class JobMetrics {
  private readonly series = new Map<string, Series>();

  observe(job: string, ok: boolean, seconds: number): void {
    let s = this.series.get(job);
    if (!s) {
      s = { ok: 0, error: 0, buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.series.set(job, s);
    }
    if (ok) s.ok++;
    else s.error++;
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) s.buckets[i]++;
    s.sum += seconds;
    s.count++;
  }

  /** The Prometheus text exposition of every series. */
  render(): string {
    const lines = [
      '# HELP berth_jobs_total Jobs run by the engine, by job name and outcome.',
      '# TYPE berth_jobs_total counter',
    ];
    const names = [...this.series.keys()].sort();
    for (const n of names) {
      const s = this.series.get(n)!;
      lines.push(`berth_jobs_total{job="${label(n)}",status="ok"} ${s.ok}`);
      lines.push(`berth_jobs_total{job="${label(n)}",status="error"} ${s.error}`);
    }
    lines.push('# HELP berth_job_duration_seconds Time jobs took, by job name.', '# TYPE berth_job_duration_seconds histogram');
    for (const n of names) {
      const s = this.series.get(n)!;
      BUCKETS.forEach((b, i) => lines.push(`berth_job_duration_seconds_bucket{job="${label(n)}",le="${b}"} ${s.buckets[i]}`));
      lines.push(`berth_job_duration_seconds_bucket{job="${label(n)}",le="+Inf"} ${s.count}`);
      lines.push(`berth_job_duration_seconds_sum{job="${label(n)}"} ${s.sum}`);
      lines.push(`berth_job_duration_seconds_count{job="${label(n)}"} ${s.count}`);
    }
    return lines.join('\n') + '\n';
  }
}
