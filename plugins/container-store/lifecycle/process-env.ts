// A container's process environment as dockerd builds it (container.CreateDaemonEnvironment):
// PATH, HOSTNAME and TERM first, the links' variables, then Config.Env replacing or adding by key.
// An entry without "=" (docker run -e VAR with VAR unset in the client's environment) unsets the
// key and is never passed on: runc refuses it as an invalid environment variable.
import type { Container } from '../records/index.js';

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** moby's ReplaceOrAppendEnvValues: overrides win by key; "KEY" alone removes KEY. */
export function replaceOrAppendEnv(defaults: string[], overrides: string[]): string[] {
  const out = defaults.filter((e) => e.includes('='));
  const index = new Map(out.map((e, i) => [e.slice(0, e.indexOf('=')), i]));
  const removed = new Set<number>();
  for (const v of overrides) {
    const eq = v.indexOf('=');
    const key = eq < 0 ? v : v.slice(0, eq);
    const i = index.get(key);
    if (eq < 0) {
      if (i !== undefined) removed.add(i);
      continue;
    }
    if (i !== undefined && !removed.has(i)) out[i] = v;
    else {
      index.set(key, out.length);
      out.push(v);
    }
  }
  return out.filter((_, i) => !removed.has(i));
}

/** The environment of the container's process, or of an exec in it (tty: the exec's own). */
export function containerEnv(c: Container, tty: boolean, linkEnv: string[] = []): string[] {
  const hostname = c.Config.Hostname || c.Id.slice(0, 12);
  const defaults = [DEFAULT_PATH, `HOSTNAME=${hostname}`, ...(tty ? ['TERM=xterm'] : []), ...linkEnv];
  return replaceOrAppendEnv(defaults, c.Config.Env ?? []);
}
