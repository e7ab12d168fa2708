// The host's device nodes, for privileged containers (which get all of them, as with dockerd).
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostDevice } from './oci-spec.js';

// Folders under /dev that are mounted separately in the container or are not devices to pass.
const SKIP = new Set(['/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/console', '/dev/ptmx']);

export async function listHostDevices(dir = '/dev'): Promise<HostDevice[]> {
  const out: HostDevice[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const path = join(dir, name);
    if (SKIP.has(path)) continue;
    const st = await lstat(path).catch(() => null);
    if (!st) continue;
    if (st.isDirectory()) out.push(...(await listHostDevices(path)));
    else if (st.isCharacterDevice() || st.isBlockDevice()) {
      const rdev = st.rdev;
      // Linux dev_t: major in bits 8-19 (and 32+), minor in bits 0-7 and 20-31.
      const major = ((rdev >> 8) & 0xfff) | Math.floor(rdev / 2 ** 32) & ~0xfff;
      const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
      out.push({ path, type: st.isCharacterDevice() ? 'c' : 'b', major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid });
    }
  }
  return out;
}
