// Messages between the main thread and the spawner thread (spawner.ts, spawner-worker.ts).

/** A command run to its end; its output collected (answered with a SpawnReply). */
export interface SpawnRequest {
  kind?: 'run';
  id: number;
  cmd: string;
  args: string[];
  cwd?: string;
  input?: string;
  env?: Record<string, string>;
}

export interface SpawnReply {
  id: number;
  /** Exit code, null when a signal ended it or it never ran. */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** spawn's own failure (ENOENT …): the command never ran. */
  error?: { message: string; code?: string };
}

/**
 * A child that lives on (a port proxy): the given descriptors of this process are its fds 3, 4, …;
 * answered with a StartReply once it wrote its first line on stdout. Its stdin stays open until a
 * StayRequest (the child then runs on alone) or a KillRequest; if this process dies first, its
 * stdin closes. Its stderr goes nowhere.
 */
export interface StartRequest {
  kind: 'start';
  id: number;
  cmd: string;
  args: string[];
  cwd?: string;
  env?: Record<string, string>;
  fds: number[];
  /** In a session of its own. */
  detached: boolean;
  /** No line within this time: it is killed and the start fails. */
  timeoutMs: number;
}

export interface StartReply {
  id: number;
  pid?: number;
  /** Its first stdout line, without the newline. */
  line?: string;
  error?: { message: string; code?: string };
}

/** Writes `input` to the started child's stdin and closes it; answered with a DoneReply. */
export interface StayRequest {
  kind: 'stay';
  id: number;
  /** The StartRequest's id. */
  child: number;
  input: string;
}

/** SIGKILLs the started child (if it still runs); answered with a DoneReply once it exited. */
export interface KillRequest {
  kind: 'kill';
  id: number;
  child: number;
}

export interface DoneReply {
  id: number;
  /** The child was not known (it had exited, or was never started): nothing was done. */
  unknown?: boolean;
}

/**
 * A child whose stderr and extra descriptors are pipes this thread relays (a container monitor:
 * conmon's sync, start and attach pipes on fds 3, 4, 5); answered with a StartReply once spawned
 * (no line). Its output arrives as PipeNotices; it counts as alive (ExitNotice) until it exited
 * and every pipe of it ended, or a ReleaseRequest closed them.
 */
export interface PipedRequest {
  kind: 'piped';
  id: number;
  cmd: string;
  args: string[];
  cwd?: string;
  env?: Record<string, string>;
  /** Pipes as its fds 3, 4, … (how many). */
  pipes: number;
  detached: boolean;
}

/** Writes to a pipe of a PipedRequest's child; answered with a DoneReply. */
export interface WriteRequest {
  kind: 'write';
  id: number;
  child: number;
  fd: number;
  data: string;
}

/** Closes this side of every pipe of a PipedRequest's child; answered with a DoneReply. */
export interface ReleaseRequest {
  kind: 'release';
  id: number;
  child: number;
}

export type Request = SpawnRequest | StartRequest | StayRequest | KillRequest | PipedRequest | WriteRequest | ReleaseRequest;

/** Output of a PipedRequest's child on its fd (2: stderr); `data` absent once the pipe ended. */
export interface PipeNotice {
  id: 0;
  child: number;
  fd: number;
  data?: string;
}

/** A child that startChild started has exited (id 0: no request of the main thread's). */
export interface ExitNotice {
  id: 0;
  exited: number;
}
