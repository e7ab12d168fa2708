// Small helpers every graph driver needs: run a system tool, name the backing file system,
// and read folders and file status where a missing path is an answer, not an error.
import { spawn } from 'node:child_process';
import type { BigIntStats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';

/** Runs a system tool (mount, umount, cp, stat) and resolves with its stdout; a failure carries its stderr. */
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
