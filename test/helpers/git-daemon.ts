// A git daemon on loopback serving the repositories under a folder, for builds from git URLs;
// killed (and waited for) when the test ends.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { freePort } from './ports.js';

const accepts = (port: number) => new Promise<boolean>((resolve) => {
  const c = connect(port, '127.0.0.1');
  c.once('connect', () => { c.destroy(); resolve(true); });
  c.once('error', () => resolve(false));
});

/** Serves `base`'s repositories; resolves with git://127.0.0.1:PORT once it accepts connections. */
export async function gitDaemon(t: TestContext, base: string): Promise<string> {
  const port = await freePort();
  // git-daemon itself, not `git daemon` (a wrapper whose child would outlive a kill of it).
  const exe = join(execFileSync('git', ['--exec-path']).toString().trim(), 'git-daemon');
  const child: ChildProcess = spawn(exe, ['--reuseaddr', '--export-all', `--base-path=${base}`, '--listen=127.0.0.1', `--port=${port}`, base], { stdio: 'ignore' });
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  });
  // Ready once it accepts connections (bounded: 50 tries, 100 ms apart).
  for (let i = 0; i < 50; i++) {
    if (await accepts(port)) return `git://127.0.0.1:${port}`;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('git daemon did not start');
}
