// A small real root file system for image tests: Debian's busybox-static and its applet links.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface RootfsTar {
  /** The uncompressed tar. */
  path: string;
  /** sha256:<hex> of the tar: the diffID its layer must get. */
  digest: string;
  /** Bytes of regular file content in it (what docker counts as the layer size). */
  contentSize: number;
}

export function makeBusyboxRootfs(dir: string, extraFiles: Record<string, string> = {}): RootfsTar {
  const root = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'root']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
  for (const applet of ['sh', 'ls', 'cat', 'echo', 'true', 'sleep', 'id']) symlinkSync('busybox', join(root, 'bin', applet));
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\n');
  for (const [name, content] of Object.entries(extraFiles)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), content);
  }
  const path = join(dir, 'rootfs.tar');
  // GNU tar, the way users make a root file system archive; numeric owner keeps it reproducible.
  execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', path, '.']);
  const files = ['bin/busybox', 'etc/passwd', 'etc/group', ...Object.keys(extraFiles)];
  return {
    path,
    digest: `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`,
    contentSize: files.reduce((n, f) => n + statSync(join(root, f)).size, 0),
  };
}
