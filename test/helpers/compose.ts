// Debian's docker-compose (1.29) against a test daemon: one project in a folder of the test's.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** Runs `docker-compose -p project ...args` in `cwd` against the daemon's socket (killed after 90 s). */
export function compose(project: string, cwd: string, socket: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn('docker-compose', ['-p', project, ...args], {
      cwd, env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: join(cwd, 'docker-config') }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (c) => (out += c));
    p.stderr.on('data', (c) => (out += c));
    const timer = setTimeout(() => p.kill('SIGKILL'), 90_000);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}
