// `npm run bench`: runs every benchmark against Berth and, when installed, dockerd (and bare runc
// for container run times), then prints a side-by-side report. BENCH_JSON=path also writes the
// results as JSON; BENCH_ONLY=name,group,... runs only those benchmarks (groups: daemon,
// containers); BENCH_QUICK=1 repeats less (see counts.ts).
// Add a benchmark: write bench/measure-*.ts exporting a Benchmark, list it in BENCHMARKS,
// and describe its metrics in metrics.ts. A benchmark with `only` runs against those daemons
// alone; one that throws PartialFailure keeps the figures it did measure.
import { writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { performance } from 'node:perf_hooks';
import { PartialFailure, type Benchmark } from './benchmark.js';
import { berthd, cleanupAll, dockerd, dockerdVersion, killAllSync, type DaemonSpec } from './daemons.js';
import { authz } from './measure-authz.js';
import { build } from './measure-build.js';
import { containerMemory } from './measure-container-memory.js';
import { lifecycle } from './measure-lifecycle.js';
import { list } from './measure-list.js';
import { load } from './measure-load.js';
import { memory } from './measure-memory.js';
import { parallel } from './measure-parallel.js';
import { phases } from './measure-phases.js';
import { pull } from './measure-pull.js';
import { run } from './measure-run.js';
import { runBridge } from './measure-run-bridge.js';
import { bareRunc, runc } from './measure-runc.js';
import { sharedDisk } from './measure-shared-disk.js';
import { soak } from './measure-soak.js';
import { throughput } from './measure-throughput.js';
import { volumes } from './measure-volumes.js';
import { DOCKERD_REFERENCE } from './metrics.js';
import { formatReport, reportJson, type Results, type Side } from './report.js';

const GROUPS: Record<string, Benchmark[]> = {
  daemon: [lifecycle, memory, throughput, load, sharedDisk, pull],
  containers: [run, runc, parallel, phases, containerMemory, list, authz, runBridge, soak, volumes, build],
};
const ALL = Object.values(GROUPS).flat();

/** The benchmarks BENCH_ONLY names (benchmark or group names, comma-separated), in their usual order. */
function selected(): Benchmark[] {
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  if (!only?.length) return ALL;
  const unknown = only.filter((n) => !GROUPS[n] && !ALL.some((b) => b.name === n));
  if (unknown.length) {
    throw new Error(`BENCH_ONLY: unknown ${unknown.join(', ')}; known: ${[...Object.keys(GROUPS), ...ALL.map((b) => b.name)].join(', ')}`);
  }
  const chosen = new Set(only.flatMap((n) => GROUPS[n] ?? ALL.filter((b) => b.name === n)));
  return ALL.filter((b) => chosen.has(b));
}

function progress(text: string): void {
  process.stderr.write(text);
}

async function runOne(b: Benchmark, spec: DaemonSpec, side: Side, r: Results): Promise<void> {
  progress(`  ${b.name.padEnd(16)} ${spec.label.padEnd(8)} `);
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
  const benchmarks = selected();
  const withDockerd = dockerd.available();
  const results: Results = {
    berth: {},
    dockerd: withDockerd ? {} : { ...DOCKERD_REFERENCE.figures },
    runc: {},
    dockerdSource: withDockerd ? 'measured' : 'reference',
    dockerdVersion: withDockerd ? dockerdVersion() : undefined,
    referenceDescription: withDockerd ? undefined : DOCKERD_REFERENCE.description,
    failed: { berth: {}, dockerd: {}, runc: {} },
    errors: [],
  };
  progress(`benchmarking Berth${withDockerd ? ' and dockerd' : ' (dockerd not installed: using reference figures)'}\n`);
  for (const b of benchmarks) {
    // Alternate the daemons per benchmark so both see the same machine conditions.
    const runs = (name: string) => (b.only ? b.only.includes(name) : name !== bareRunc.name);
    if (runs(berthd.name)) await runOne(b, berthd, 'berth', results);
    if (withDockerd && runs(dockerd.name)) await runOne(b, dockerd, 'dockerd', results);
    if (runs(bareRunc.name) && bareRunc.available()) await runOne(b, bareRunc, 'runc', results);
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
