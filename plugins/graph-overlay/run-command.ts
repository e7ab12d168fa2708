// Runs a system tool (mount, umount, stat) and resolves with its stdout; a failure carries the tool's stderr.
import { spawn } from 'node:child_process';

export function runCommand(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(Buffer.concat(out).toString());
      const why = Buffer.concat(err).toString().trim() || `exit ${code ?? signal}`;
      reject(new Error(`${cmd} ${args.join(' ')}: ${why}`));
    });
  });
}
