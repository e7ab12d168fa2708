// Messages between the main thread and the spawner thread (spawner.ts, spawner-worker.ts).

export interface SpawnRequest {
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
