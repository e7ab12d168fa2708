// A full copy of a layer folder, for a child layer. `cp -a` keeps what a layer is made of:
// ownership, modes, nanosecond mtimes, symlinks, hard links within the tree, devices, fifos,
// sockets and xattrs; --reflink=auto shares blocks on file systems that can (btrfs, xfs),
// and falls back to a plain copy elsewhere.
import { runCommand } from '../../lib/host-cmd.js';

/** Copies folder `from` to `to`, which must not exist yet (cp then gives it from's own attributes). */
export async function copyTree(from: string, to: string): Promise<void> {
  await runCommand('cp', ['-a', '--reflink=auto', '--no-target-directory', from, to]);
}
