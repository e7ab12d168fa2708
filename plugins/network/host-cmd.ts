// Runs the host's network tools (ip, iptables-restore, unshare, nsenter, umount) with an optional
// script on stdin; a failure carries the tool's own message.
import { spawn } from 'node:child_process';

export function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(Buffer.concat(out).toString());
      const why = Buffer.concat(err).toString().trim() || `exit ${code ?? signal}`;
      reject(new Error(`${cmd} ${args.join(' ')}: ${why}`));
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** `ip -batch -` in the daemon's namespace, or inside `netns` (a namespace file). */
export function ipBatch(lines: string[], netns?: string): Promise<string> {
  const script = `${lines.join('\n')}\n`;
  return netns ? run('nsenter', [`--net=${netns}`, 'ip', '-batch', '-'], script) : run('ip', ['-batch', '-'], script);
}
