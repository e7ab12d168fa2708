// The metrics plugin: counts every job through the jobRun hook and serves Prometheus text.
import { createServer } from 'node:http';
import { definePlugin } from '../../core/plugin-api.js';
import { JobMetrics } from './job-metrics.js';

function processMetrics(version: string, commit: string): string {
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
    '',
  ].join('\n');
}

export default definePlugin({
  async init(ctx) {
    const metrics = new JobMetrics();
    ctx.hooks.jobRun.after.tap('count', (job) => metrics.observe(job.name, job.status === 0, job.durationMs / 1000));
    ctx.services.provide('metrics', metrics);
    const addr = ctx.config['metrics-addr'] as string | undefined;
    if (!addr) return;
    const cut = addr.lastIndexOf(':');
    const host = addr.slice(0, cut).replace(/^\[|\]$/g, '') || '0.0.0.0';
    const port = Number(addr.slice(cut + 1));
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found\n');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(metrics.render() + processMetrics(ctx.daemon.version, ctx.daemon.commit));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(ctx.errors.configError(`plugin metrics: metrics-addr: cannot listen on ${addr}: ${err.message}`)));
      server.listen(port, host, () => resolve());
    });
    ctx.log.info({ address: addr }, 'metrics listen');
    ctx.hooks.shutdown.tapPromise('close', () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));
  },
});
