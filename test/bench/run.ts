// `npm run bench`: runs every benchmark against Berth and, when installed, dockerd, then prints
// a side-by-side report. BENCH_JSON=path also writes the results as JSON.
// Add a benchmark: write bench/measure-*.ts exporting a Benchmark, list it in BENCHMARKS,
// and describe its metrics in metrics.ts.
import { writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Benchmark } from './benchmark.js';
import { berthd, cleanupAll, dockerd, dockerdVersion, killAllSync, type DaemonSpec } from './daemons.js';
import { lifecycle } from './measure-lifecycle.js';
import { memory } from './measure-memory.js';
import { throughput } from './measure-throughput.js';
import { DOCKERD_REFERENCE } from './metrics.js';
import { formatReport, reportJson, type Results } from './report.js';

const BENCHMARKS: Benchmark[] = [lifecycle, memory, throughput];

function progress(text: string): void {
  process.stderr.write(text);
}

async function runOne(b: Benchmark, spec: DaemonSpec, side: 'berth' | 'dockerd', r: Results): Promise<void> {
  progress(`  ${b.name.padEnd(12)} ${spec.label.padEnd(8)} `);
  const t0 = performance.now();
  try {
    Object.assign(r[side], await b.run(spec));
    progress(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    for (const k of b.metrics) r.failed[side][k] = message;
    r.errors.push({ daemon: spec.name, benchmark: b.name, message });
    progress(`FAILED: ${message}\n`);
  }
}

async function main(): Promise<number> {
  const withDockerd = dockerd.available();
  const results: Results = {
    berth: {},
    dockerd: withDockerd ? {} : { ...DOCKERD_REFERENCE.figures },
    dockerdSource: withDockerd ? 'measured' : 'reference',
    dockerdVersion: withDockerd ? dockerdVersion() : undefined,
    referenceDescription: withDockerd ? undefined : DOCKERD_REFERENCE.description,
    failed: { berth: {}, dockerd: {} },
    errors: [],
  };
  progress(`benchmarking Berth${withDockerd ? ' and dockerd' : ' (dockerd not installed: using reference figures)'}\n`);
  for (const b of BENCHMARKS) {
    // Alternate the daemons per benchmark so both see the same machine conditions.
    await runOne(b, berthd, 'berth', results);
    if (withDockerd) await runOne(b, dockerd, 'dockerd', results);
  }
  process.stdout.write(formatReport(results));
  const jsonPath = process.env.BENCH_JSON;
  if (jsonPath) {
    const host = { cpus: cpus().length, cpu: cpus()[0]?.model, kernel: release(), node: process.version };
    writeFileSync(jsonPath, JSON.stringify(reportJson(results, host), null, 2) + '\n');
    progress(`results written to ${jsonPath}\n`);
  }
  return Object.keys(results.failed.berth).length ? 1 : 0;
}

// Whatever happens, no daemon we started may outlive the run.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    progress(`\n${sig}: stopping the daemons started by the benchmark\n`);
    void cleanupAll().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  });
}
process.on('exit', killAllSync);

main().then(
  async (code) => { await cleanupAll(); process.exitCode = code; },
  async (err) => {
    await cleanupAll();
    process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
