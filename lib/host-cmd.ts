// Host-command helpers the drivers share: run a host tool, name the backing file system, and read
// folders and file status where a missing path is an answer, not an error.
import type { BigIntStats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { spawnCollect } from './spawner/spawner.js';

/**
 * Runs a host tool (mount, cp, ip, iptables-restore, nsenter …) and resolves with its stdout; `input`
 * goes to its stdin. A failure carries the tool's own message (its stderr, else its exit). The fork
 * happens on the spawner thread (lib/spawner), never on the event loop.
 */
export async function runCommand(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): Promise<string> {
  const r = await spawnCollect({ cmd, args, cwd: opts.cwd, input: opts.input });
  if (r.error) throw Object.assign(new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`), { code: r.error.code });
  if (r.code === 0) return r.stdout;
  const why = r.stderr.trim() || `exit ${r.code ?? r.signal}`;
  throw new Error(`${cmd} ${args.join(' ')}: ${why}`);
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
