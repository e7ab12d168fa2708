// The real docker CLI against a benchmark daemon, timed from spawn to exit.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { scratchDir, trackClient, type Daemon } from './daemons.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

let config: string | undefined;

/** Runs `docker -H unix://<socket> args...`; killed after timeoutMs. Never touches ~/.docker. */
export function dockerCli(d: Daemon, args: string[], timeoutMs = 60_000): Promise<CliResult> {
  config ??= scratchDir('docker-config');
  return new Promise((resolve) => {
    const t0 = performance.now();
    const p = spawn('docker', ['-H', `unix://${d.socket}`, ...args], {
      env: { ...process.env, DOCKER_CONFIG: config },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackClient(p);
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (b: Buffer) => (stdout += b));
    p.stderr!.on('data', (b: Buffer) => (stderr += b));
    const timer = setTimeout(() => { stderr += `\nkilled after ${timeoutMs} ms`; p.kill('SIGKILL'); }, timeoutMs);
    p.on('error', (err) => (stderr += `\n${err.message}`));
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

/** The same, failing unless the CLI exits 0. */
export async function dockerOk(d: Daemon, args: string[], timeoutMs?: number): Promise<CliResult> {
  const r = await dockerCli(d, args, timeoutMs);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}\n${d.logs().slice(-4000)}`);
  return r;
}
