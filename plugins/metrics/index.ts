// The metrics plugin: counts every job through the jobRun hook and serves Prometheus text.
import { createServer } from 'node:http';
import { constants as perfConstants, monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { definePlugin } from '../../core/plugin-api.js';
import { JobMetrics } from './job-metrics.js';

/**
 * Heap in use just after the latest full (mark-sweep) collection: what the daemon really holds.
 * RSS only grows in steps as V8 sizes its heap to the load and rarely gives pages back, so a leak
 * shows here first and a one-time heap step does not look like one.
 */
function watchLiveHeap(): { bytes: () => number; stop: () => void } {
  let live = 0;
  const obs = new PerformanceObserver((list) => {
    const major = list.getEntries().some((e) => (e as { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR);
    if (major) live = getHeapStatistics().used_heap_size;
  });
  obs.observe({ entryTypes: ['gc'] });
  return { bytes: () => live, stop: () => obs.disconnect() };
}

function processMetrics(version: string, commit: string, liveHeap: number): string {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  return [
    '# HELP berth_build_info Version and commit of the running daemon.',
    '# TYPE berth_build_info gauge',
    `berth_build_info{version="${version}",commit="${commit}"} 1`,
    '# HELP process_resident_memory_bytes Resident memory size in bytes.',
    '# TYPE process_resident_memory_bytes gauge',
    `process_resident_memory_bytes ${mem.rss}`,
    '# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.',
    '# TYPE process_cpu_seconds_total counter',
    `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`,
    '# HELP berth_heap_live_bytes Heap in use after the latest full garbage collection (0 before the first).',
    '# TYPE berth_heap_live_bytes gauge',
    `berth_heap_live_bytes ${liveHeap}`,
    '',
  ].join('\n');
}

const RESOLUTION_MS = 10;

/**
 * How late the event loop ran its timers: every client waits at least this long when it happens.
 * libuv samples every 10 ms; a sample is the whole interval, so the resolution is taken off.
 * One histogram counts since the daemon became ready, a second since the previous scrape (the
 * figure to watch during a load test; a second scraper shortens the other's window).
 */
function eventLoopMetrics(total: IntervalHistogram, window: IntervalHistogram): string {
  // Before the first sample (the daemon answered within its first 10 ms) every figure is 0: the
  // series are always there, so a scrape never finds them missing.
  const s = (ns: number) => Math.max(0, ns / 1e9 - RESOLUTION_MS / 1e3).toFixed(6);
  const lines = [
    '# HELP berth_event_loop_lag_seconds Event-loop delay since the daemon became ready.',
    '# TYPE berth_event_loop_lag_seconds summary',
    ...[0.5, 0.9, 0.99].map((q) => `berth_event_loop_lag_seconds{quantile="${q}"} ${total.count ? s(total.percentile(q * 100)) : s(0)}`),
    `berth_event_loop_lag_seconds_sum ${total.count ? (Math.max(0, total.mean / 1e9 - RESOLUTION_MS / 1e3) * total.count).toFixed(6) : s(0)}`,
    `berth_event_loop_lag_seconds_count ${total.count}`,
    '# HELP berth_event_loop_lag_max_seconds Longest event-loop delay since the daemon became ready.',
    '# TYPE berth_event_loop_lag_max_seconds gauge',
    `berth_event_loop_lag_max_seconds ${total.count ? s(total.max) : s(0)}`,
    '# HELP berth_event_loop_lag_window_seconds Event-loop delay since the previous scrape of /metrics.',
    '# TYPE berth_event_loop_lag_window_seconds gauge',
    `berth_event_loop_lag_window_seconds{stat="p99"} ${window.count ? s(window.percentile(99)) : '0.000000'}`,
    `berth_event_loop_lag_window_seconds{stat="max"} ${window.count ? s(window.max) : '0.000000'}`,
    '',
  ];
  window.reset();
  return lines.join('\n');
}

export default definePlugin({
  async init(ctx) {
    const metrics = new JobMetrics();
    ctx.hooks.jobRun.after.tap('count', (job) => metrics.observe(job.name, job.status === 0, job.durationMs / 1000));
    ctx.services.provide('metrics', metrics);
    const addr = ctx.config['metrics-addr'] as string | undefined;
    if (!addr) return;
    // From readiness on: loading plugins and restoring state are start-up, not service.
    const lag = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    const lagWindow = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    ctx.hooks.ready.tap('event-loop-lag', () => { lag.enable(); lagWindow.enable(); });
    const liveHeap = watchLiveHeap();
    const cut = addr.lastIndexOf(':');
    const host = addr.slice(0, cut).replace(/^\[|\]$/g, '') || '0.0.0.0';
    const port = Number(addr.slice(cut + 1));
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found\n');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(metrics.render() + processMetrics(ctx.daemon.version, ctx.daemon.commit, liveHeap.bytes()) + eventLoopMetrics(lag, lagWindow));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(ctx.errors.configError(`plugin metrics: metrics-addr: cannot listen on ${addr}: ${err.message}`)));
      server.listen(port, host, () => resolve());
    });
    ctx.log.info({ address: addr }, 'metrics listen');
    ctx.hooks.shutdown.tapPromise('close', () => new Promise<void>((resolve) => {
      lag.disable();
      lagWindow.disable();
      liveHeap.stop();
      server.close(() => resolve());
      server.closeAllConnections();
    }));
  },
});
