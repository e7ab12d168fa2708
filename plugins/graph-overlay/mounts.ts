// Overlay mounts: building the mount options, mounting with the driver root as the working
// directory (so lowerdir can name the short l/<name> links), and unmounting.
import { access, readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { runCommand } from '../../lib/host-cmd.js';

// The kernel takes mount options as one page; the smallest page size Linux runs with is 4 KiB.
const MOUNT_DATA_MAX = 4095;

export interface OverlayMount {
  /** Lower dirs relative to the root, nearest first. */
  lowers: string[];
  /** Upper and work dirs relative to the root; absent for a read-only mount of lowers only. */
  upper?: string;
  work?: string;
}

let indexOff: Promise<boolean> | undefined;
/** Kernels with the overlay "index" feature get index=off, as dockerd does: layers are shared by many stacks. */
function supportsIndexOff(): Promise<boolean> {
  return (indexOff ??= access('/sys/module/overlay/parameters/index').then(() => true, () => false));
}

export async function mountOptions(m: OverlayMount): Promise<string> {
  const opts = [`lowerdir=${m.lowers.join(':')}`];
  if (m.upper && m.work) opts.push(`upperdir=${m.upper}`, `workdir=${m.work}`);
  else opts.unshift('ro');
  if (await supportsIndexOff()) opts.unshift('index=off');
  return opts.join(',');
}

/** Mounts an overlay on `target` (relative to `root`), running mount(8) inside `root`. */
export async function mountOverlay(root: string, target: string, m: OverlayMount): Promise<void> {
  const options = await mountOptions(m);
  if (options.length > MOUNT_DATA_MAX) {
    throw new Error(`mount options are ${options.length} bytes, over the kernel's limit of ${MOUNT_DATA_MAX}`);
  }
  await runCommand('mount', ['-t', 'overlay', 'overlay', '-o', options, target], { cwd: root });
}

/** Unmounts `path`; a busy mount is detached lazily (it goes away when its last user does). */
export async function unmount(path: string, log?: Logger): Promise<void> {
  try {
    await runCommand('umount', [path]);
  } catch (err) {
    const message = (err as Error).message;
    if (/not mounted|no mount point/i.test(message)) return;
    if (!/busy/i.test(message)) throw err;
    log?.warn({ path }, 'mount busy: detaching it lazily');
    await runCommand('umount', ['-l', path]);
  }
}

/** Mount points of this process's mount namespace, from /proc/self/mountinfo (octal escapes decoded). */
export async function mountPoints(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ')[4].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}
