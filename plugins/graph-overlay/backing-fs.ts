// The file system a driver's root lives on, named as dockerd's "Backing Filesystem" does.
import { runCommand } from './run-command.js';

// stat(1) reports ext2, ext3 and ext4 by their shared magic; dockerd calls that "extfs".
const NAMES: Record<string, string> = { 'ext2/ext3': 'extfs' };

export async function backingFs(path: string): Promise<string> {
  const type = (await runCommand('stat', ['-f', '-c', '%T', path])).trim();
  return NAMES[type] ?? type;
}
