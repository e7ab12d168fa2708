// `npm run bench`: runs every benchmark against Berth and, when installed, dockerd, then prints
// a side-by-side report. BENCH_JSON=path also writes the results as JSON.
// Add a benchmark: write bench/measure-*.ts exporting a Benchmark, list it in BENCHMARKS,
// and describe its metrics in metrics.ts. A benchmark with `only` runs against those daemons
// alone; one that throws PartialFailure keeps the figures it did measure.
import { writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { performance } from 'node:perf_hooks';
import { PartialFailure, type Benchmark } from './benchmark.js';
import { berthd, cleanupAll, dockerd, dockerdVersion, killAllSync, type DaemonSpec } from './daemons.js';
import { lifecycle } from './measure-lifecycle.js';
import { load } from './measure-load.js';
import { memory } from './measure-memory.js';
import { sharedDisk } from './measure-shared-disk.js';
import { throughput } from './measure-throughput.js';
import { DOCKERD_REFERENCE } from './metrics.js';
import { formatReport, reportJson, type Results } from './report.js';

const BENCHMARKS: Benchmark[] = [lifecycle, memory, throughput, load, sharedDisk];

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
    if (err instanceof PartialFailure) Object.assign(r[side], err.figures);
    for (const k of b.metrics) if (r[side][k] === undefined) r.failed[side][k] = message;
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
    const runs = (name: string) => !b.only || b.only.includes(name);
    if (runs(berthd.name)) await runOne(b, berthd, 'berth', results);
    if (withDockerd && runs(dockerd.name)) await runOne(b, dockerd, 'dockerd', results);
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
