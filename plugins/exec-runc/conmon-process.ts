// Starts conmon, the per-container monitor, and speaks its pipe protocol: conmon reports the
// container's pid (or the runtime's error) and, for an exec, its exit code on _OCI_SYNCPIPE as
// JSON lines {"data": N, "message"?: "..."}; _OCI_STARTPIPE and _OCI_ATTACHPIPE let an exec wait
// until its caller is attached, so no output is lost.
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

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

/** Reads newline-delimited JSON messages from a pipe, one at a time. */
function messageReader(stream: Readable) {
  let buf = '';
  let ended = false;
  const queue: SyncMessage[] = [];
  let waiter: (() => void) | undefined;
  stream.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
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
  });
  const end = () => {
    ended = true;
    waiter?.();
  };
  stream.on('end', end);
  stream.on('close', end);
  stream.on('error', end);
  return async function next(): Promise<SyncMessage | null> {
    while (!queue.length && !ended) await new Promise<void>((r) => (waiter = r));
    waiter = undefined;
    return queue.shift() ?? null;
  };
}

export function startConmon(conmonPath: string, args: string[], opts: { cwd: string; withExecPipes: boolean }): ConmonHandle {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', _OCI_SYNCPIPE: '3' };
  if (opts.withExecPipes) Object.assign(env, { _OCI_STARTPIPE: '4', _OCI_ATTACHPIPE: '5' });
  const stdio: ('ignore' | 'pipe')[] = ['ignore', 'ignore', 'pipe', 'pipe', ...(opts.withExecPipes ? (['pipe', 'pipe'] as const) : [])];
  // detached: conmon double-forks and calls setsid itself; we must not be its session either.
  const child = spawn(conmonPath, args, { cwd: opts.cwd, env, stdio, detached: true });
  child.unref();
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  let spawnError: Error | undefined;
  child.on('error', (err) => (spawnError = err));
  const pipes = child.stdio as unknown as (Readable & Writable)[];
  const sync = pipes[3];
  const nextSync = messageReader(sync);
  const attach = opts.withExecPipes ? pipes[5] : undefined;
  const nextAttach = attach ? messageReader(attach) : async () => null;
  const start = opts.withExecPipes ? pipes[4] : undefined;
  return {
    async nextSync() {
      const msg = await nextSync();
      if (!msg && spawnError) return { data: -1, message: `${conmonPath}: ${spawnError.message}` };
      return msg;
    },
    nextAttach,
    signalStart: () => start?.write('0'),
    stderr: () => stderr.trim(),
    release() {
      for (const s of [sync, attach, start, child.stderr]) (s as { destroy?: () => void } | undefined)?.destroy?.();
    },
  };
}
