// Starts conmon, the per-container monitor, and speaks its pipe protocol: conmon reports the
// container's pid (or the runtime's error) and, for an exec, its exit code on _OCI_SYNCPIPE as
// JSON lines {"data": N, "message"?: "..."}; _OCI_STARTPIPE and _OCI_ATTACHPIPE let an exec wait
// until its caller is attached, so no output is lost.
import { startPiped } from '../../lib/spawner/spawner.js';

export interface SyncMessage { data: number; message?: string }

export interface ConmonHandle {
  /** Next message on the sync pipe, or null when conmon closed it. */
  nextSync(): Promise<SyncMessage | null>;
  /** Next message on the attach pipe (exec with attach), or null. */
  nextAttach(): Promise<SyncMessage | null>;
  /** Releases conmon's start pipe (an exec with attach reads it twice: before forking, then before exec). */
  signalStart(): void;
  /** What conmon printed before it detached (option errors). */
  stderr(): string;
  /** Closes our ends of the pipes. */
  release(): void;
}

/** Reads newline-delimited JSON messages from a pipe, one at a time; fed its chunks (null: ended). */
function messageReader() {
  let buf = '';
  let ended = false;
  const queue: SyncMessage[] = [];
  let waiter: (() => void) | undefined;
  const feed = (chunk: string | null) => {
    if (chunk === null) ended = true;
    else buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      try {
        queue.push(JSON.parse(line) as SyncMessage);
      } catch {
        queue.push({ data: -1, message: line });
      }
    }
    waiter?.();
  };
  const next = async (): Promise<SyncMessage | null> => {
    while (!queue.length && !ended) await new Promise<void>((r) => (waiter = r));
    waiter = undefined;
    return queue.shift() ?? null;
  };
  return { feed, next };
}

/**
 * Starts conmon from the spawner thread: spawn() forks the whole daemon, which under load held the
 * event loop 100–280 ms a container (the soak's longest stalls); its pipes are relayed from there.
 */
export function startConmon(conmonPath: string, args: string[], opts: { cwd: string; withExecPipes: boolean }): ConmonHandle {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', _OCI_SYNCPIPE: '3' };
  if (opts.withExecPipes) Object.assign(env, { _OCI_STARTPIPE: '4', _OCI_ATTACHPIPE: '5' });
  let stderr = '';
  const sync = messageReader();
  const attach = messageReader();
  // detached: conmon double-forks and calls setsid itself; we must not be its session either.
  const child = startPiped({ cmd: conmonPath, args, cwd: opts.cwd, env, detached: true, pipes: opts.withExecPipes ? 3 : 1 }, (fd, data) => {
    if (fd === 2) stderr += data ?? '';
    else if (fd === 3) sync.feed(data);
    else if (fd === 5) attach.feed(data);
  });
  let spawnError: Error | undefined;
  const spawned = child.spawned.then(() => {}, (err: Error) => { spawnError = err; });
  return {
    async nextSync() {
      const msg = await sync.next();
      if (msg) return msg;
      await spawned;
      return spawnError ? { data: -1, message: spawnError.message } : null;
    },
    nextAttach: opts.withExecPipes ? attach.next : async () => null,
    signalStart: () => { if (opts.withExecPipes) void child.write(4, '0'); },
    stderr: () => stderr.trim(),
    release: () => { void child.release(); },
  };
}
