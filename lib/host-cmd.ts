// Host-command helpers the drivers share: run a host tool, name the backing file system, and read
// folders and file status where a missing path is an answer, not an error.
import { spawn } from 'node:child_process';
import type { BigIntStats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';

/**
 * Runs a host tool (mount, cp, ip, iptables-restore, nsenter …) and resolves with its stdout; `input`
 * goes to its stdin. A failure carries the tool's own message (its stderr, else its exit).
 */
export function runCommand(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
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
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** The same with a script on stdin: the network tools' usual form. */
export const run = (cmd: string, args: string[], input?: string): Promise<string> => runCommand(cmd, args, { input });

/** `ip -batch -` in the daemon's namespace, or inside `netns` (a namespace file). */
export function ipBatch(lines: string[], netns?: string): Promise<string> {
  const script = `${lines.join('\n')}\n`;
  return netns ? run('nsenter', [`--net=${netns}`, 'ip', '-batch', '-'], script) : run('ip', ['-batch', '-'], script);
}

// stat(1) reports ext2, ext3 and ext4 by their shared magic; dockerd calls that "extfs".
const FS_NAMES: Record<string, string> = { 'ext2/ext3': 'extfs' };

/** The file system a driver's root lives on, named as dockerd's "Backing Filesystem" does. */
export async function backingFs(path: string): Promise<string> {
  const type = (await runCommand('stat', ['-f', '-c', '%T', path])).trim();
  return FS_NAMES[type] ?? type;
}

export const isMissing = (err: unknown) => ['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '');

export async function namesIn(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
}

export async function statOrNull(path: string): Promise<BigIntStats | null> {
  try {
    return await lstat(path, { bigint: true });
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}
