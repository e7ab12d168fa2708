// docker run --init: the host's init binary (tini), found as dockerd finds docker-init, mounted
// into the container at /sbin/docker-init. A static build is preferred: the image may have no libc.
import { constants } from 'node:fs';
import { access, realpath } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { systemError } from '../../../core/plugin-api.js';

const INIT_NAME = 'docker-init';
// dockerd's libexec folders, searched before $PATH.
const LIBEXEC_DIRS = ['/usr/local/libexec/docker', '/usr/libexec/docker', '/usr/local/lib/docker', '/usr/lib/docker'];
// Debian's tini package: docker-init is a link to tini-static when docker.io is installed.
const FALLBACKS = ['/usr/bin/tini-static'];

const executable = (path: string) => access(path, constants.X_OK).then(() => true, () => false);

/** The host path of the init binary: init-path when set (absolute, or a name to look up), else docker-init or tini-static. */
export async function lookupInitBinary(initPath?: string): Promise<string> {
  if (initPath && isAbsolute(initPath)) {
    if (!(await executable(initPath))) throw systemError(`docker run --init: init binary ${initPath} (init-path) is missing or not executable`);
    return realpath(initPath);
  }
  const name = initPath || INIT_NAME;
  const dirs = [...LIBEXEC_DIRS, ...(process.env.PATH ?? '').split(':').filter(Boolean)];
  const candidates = [...dirs.map((d) => join(d, name)), ...(initPath ? [] : FALLBACKS)];
  for (const c of candidates) if (await executable(c)) return realpath(c);
  throw systemError(`docker run --init: init binary "${name}" not found in ${LIBEXEC_DIRS.join(', ')} or $PATH${initPath ? '' : `, nor ${FALLBACKS.join(', ')}`}: install tini (tini-static) or set init-path`);
}
