// The exec-driver interface: the contract an OCI runtime driver implements (runc, crun, or a
// third party's). Interface version EXEC_DRIVER_API (semver): additions bump the minor.
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';

export const EXEC_DRIVER_API = '1.4.0';

/** The parts of an OCI runtime spec (config.json) Berth fills; the driver writes the file. */
export type OciSpec = Record<string, unknown> & { ociVersion: string; process: Record<string, unknown>; root: { path: string; readonly?: boolean } };

export interface CreateRequest {
  id: string;
  /** The bundle folder: the driver writes config.json here; rootfs is spec.root.path. */
  bundle: string;
  spec: OciSpec;
  /** Keep the container's stdin open for attach (docker run -i). */
  openStdin: boolean;
  tty: boolean;
  /** Where the monitor logs the container's output, in the driver's own format: read it back with
   * readLogs. Since 1.3.0 an empty string means no log is kept (the `none` log driver). */
  logPath: string;
  /** Closing the (first) attached stdin closes the container's stdin (docker run -i --attach stdin: StdinOnce). */
  stdinOnce?: boolean;
}

export type RuntimeStatus = 'created' | 'running' | 'paused' | 'stopped';

export interface ExitInfo {
  exitCode: number;
  /** RFC 3339 with nanoseconds. */
  finishedAt: string;
  oomKilled: boolean;
}

export interface RuntimeState {
  status: RuntimeStatus;
  /** Host pid of the container's init process, 0 when not running. */
  pid: number;
  exit?: ExitInfo;
  /**
   * Without an exit: whether the monitor that will record it still runs (since 1.2.0). False
   * means no exit will ever be recorded, so the daemon marks the container exited (code 255).
   */
  monitor?: boolean;
}

/** A live connection to a container's (or exec's) stdio. */
export interface StdioHandle {
  /** Bytes for the process's stdin (undefined when stdin is not open). */
  stdin?: Writable;
  /** Output chunks tagged by stream; in TTY mode every chunk is 'stdout' with the terminal's raw bytes. */
  output: Readable & AsyncIterable<{ stream: 'stdout' | 'stderr'; data: Buffer }>;
  resize?(height: number, width: number): Promise<void>;
  close(): void;
}

export interface ExecRequest {
  execId: string;
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids?: number[] };
  tty: boolean;
  openStdin: boolean;
  privileged?: boolean;
}

export interface ExecDriver {
  readonly name: string;
  /** Version and commit of the runtime binary, for /version and /info. */
  version(): Promise<{ version: string; commit: string }>;
  /** Starts the per-container monitor and creates (not starts) the container. */
  create(req: CreateRequest): Promise<void>;
  /**
   * Starts a created container. Since 1.4.0 it may resolve with the container's host pid, which
   * saves the caller a state() round trip (a runtime process for runc).
   */
  start(id: string): Promise<{ pid: number } | void>;
  state(id: string): Promise<RuntimeState>;
  kill(id: string, signal: string): Promise<void>;
  /** Removes the runtime's record of a stopped container and its monitor's files. */
  delete(id: string): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  attach(id: string): Promise<StdioHandle>;
  /** Runs a process in a running container. Since 1.2.0 the result may carry the process's host
   * pid, which Berth signals to end an exec early (a health probe past its timeout). */
  exec(id: string, req: ExecRequest): Promise<{ stdio: StdioHandle; exited: Promise<ExitInfo>; pid?: number }>;
  /**
   * Sets the terminal size of a TTY container (execId undefined) or of one of its TTY execs
   * (ExecRequest.execId), attached or not. Since 1.2.0; optional, so 1.1 drivers still load.
   */
  resize?(id: string, execId: string | undefined, height: number, width: number): Promise<void>;
  /** Resolves when the container's process has exited (also for an exit while the daemon was down). */
  waitExit(id: string): Promise<ExitInfo>;
  /** Containers this driver still knows after a daemon restart (live restore). */
  list(): Promise<string[]>;
  /** The entries of a log this driver's monitor wrote (CreateRequest.logPath), for docker logs.
   * Since 1.3.0 it reads the rotated files first (`<logPath>.N` … `<logPath>.1`, see rotateLog),
   * and a follow goes on across rotations and across runs of the container. */
  readLogs(logPath: string, opts?: LogReadOptions): AsyncIterable<LogEntry>;
  /**
   * Since 1.3.0, optional: rotates a running container's log as dockerd's json-file does: the log
   * becomes `<logPath>.1` (older ones move up, `<logPath>.<maxFiles-1>` is the last kept) and the
   * monitor starts a new file; with maxFiles 1 the monitor just starts the log afresh. Berth calls
   * it when the log has reached the container's max-size. Nothing written may be lost.
   */
  rotateLog?(id: string, maxFiles: number): Promise<void>;
  /** Since 1.2: changes a running container's limits; fields left out stay as they are. */
  update(id: string, resources: LinuxResources): Promise<void>;
  /** Since 1.2: raw figures of a running container's cgroup, for docker stats. */
  stats(id: string): Promise<ContainerStats>;
  /** Since 1.2: host pids of every process in the container's cgroup, for docker top. */
  pids(id: string): Promise<number[]>;
}

/**
 * The part of the OCI runtime spec's linux.resources a live update may change. Absent or 0 means
 * "leave as is"; -1 means unlimited (memory.limit, memory.swap, cpu.quota, pids.limit).
 */
export interface LinuxResources {
  /** Bytes; swap is memory plus swap, as the OCI spec and cgroup v1's memsw count it. */
  memory?: { limit?: number; swap?: number };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
  blockIO?: { weight?: number };
}

/** One line of a blkio (v1) or io.stat (v2) counter. */
export interface BlkioEntry { major: number; minor: number; op: string; value: number }

/** A container's cgroup figures at one moment, as the kernel counts them (times in ns). */
export interface ContainerStats {
  cgroupVersion: 1 | 2;
  /** Host pid of the container's init process (its /proc/PID/net/dev gives the network figures). */
  pid: number;
  cpu: {
    total: number;
    /** Per CPU (cgroup v1 only). */
    perCpu?: number[];
    user: number;
    system: number;
    throttling: { periods: number; throttledPeriods: number; throttledTime: number };
  };
  memory: {
    usage: number;
    /** The cgroup's limit; very large (or unset) when there is none. */
    limit?: number;
    /** High-water mark (cgroup v1 only). */
    maxUsage?: number;
    failcnt?: number;
    /** memory.stat, key by key. */
    stats: Record<string, number>;
  };
  pids: { current: number; limit?: number };
  blkio: { ioServiceBytesRecursive: BlkioEntry[]; ioServicedRecursive: BlkioEntry[] };
}

/** One chunk of a container's log. */
export interface LogEntry {
  stream: 'stdout' | 'stderr';
  /** RFC 3339 with nanoseconds, as conmon wrote it. */
  time: string;
  /** The bytes, without the newline; a full line ends with "\n" when partial is false. */
  line: Buffer;
  partial: boolean;
}

export interface LogReadOptions {
  /** Unix seconds (fractions allowed): entries before are skipped. */
  since?: number;
  /** Unix seconds: entries after are skipped, and follow stops there. */
  until?: number;
  /** The last N lines only (a line may span several partial entries). */
  tail?: number;
  follow?: boolean;
  signal?: AbortSignal;
}

/** What an exec-driver plugin registers: ctx.drivers.register('exec', registration). */
export interface RuntimeRegistration {
  name: string;
  /** The EXEC_DRIVER_API version the driver was written for: same major, no newer minor. */
  api: string;
  /** The runtime's binary, shown in /info (Runtimes). */
  path?: string;
  /** Opens the driver on its state folder, <exec-root>/runtimes/<name>. */
  open(opts: { stateDir: string; log: Logger; options: Record<string, unknown> }): Promise<ExecDriver>;
}
