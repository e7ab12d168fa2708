// The exec-driver interface: the contract an OCI runtime driver implements (runc, crun, or a
// third party's). Interface version EXEC_DRIVER_API (semver): additions bump the minor, changes
// the major. A driver states the version it was written for in its registration (api); the
// core's driver registry refuses another major or a newer minor. Guide: plugins/exec/README.md.
//
// 2.0.0 (breaking): CreateRequest carries a runtime-neutral ContainerSpec instead of an OCI
// config.json. Each driver builds its own artefacts from it (runc's config.json, a VM's
// configuration …) with its own secure defaults and host facts; Berth writes no runtime file.
//
// 2.1.0: optional prune(keep), Berth's reconciliation with the runtime at daemon start; list()
// gives every container the driver holds, in any state.
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';

export const EXEC_DRIVER_API = '2.1.0';

/** The user a process runs as, numeric (the container store resolves names in the image). */
export interface ProcessUser { uid: number; gid: number; additionalGids?: number[] }

/** A container's (init) process. */
export interface ProcessSpec {
  /** argv; args[0] is looked up in the container's PATH (env) by the driver's runtime. */
  args: string[];
  /** KEY=value, PATH and HOSTNAME included (and TERM with a terminal). */
  env: string[];
  /** Absolute, inside the container. */
  cwd: string;
  user: ProcessUser;
  /** A terminal (docker run -t): the output is the terminal's raw bytes, all on 'stdout'. */
  tty: boolean;
  /** docker run --ulimit: RLIMIT_<NAME upper-cased> for each; a driver sets a NOFILE default of its own. */
  ulimits?: { name: string; soft: number; hard: number }[];
}

/**
 * A file system mounted into the container. Mounts come in the order Berth wants them; a driver
 * sorts parents before children and lets a mount replace its own default at the same place.
 */
export interface MountSpec {
  /** Absolute path inside the container. */
  destination: string;
  /** bind: a host path (file or folder) mounted recursively. tmpfs: a fresh tmpfs (docker run --tmpfs). */
  type: 'bind' | 'tmpfs';
  /** bind: the host path; tmpfs: unused ('tmpfs'). */
  source: string;
  readonly?: boolean;
  /** bind: rprivate (the default), rshared, rslave, private, shared, slave. */
  propagation?: string;
  /** tmpfs: mount data as docker run --tmpfs /run:size=64m,mode=1777 gives it (["size=64m", "mode=1777"]). */
  options?: string[];
}

/** Limits at create time (docker run --memory, --cpus …): unset or 0 is no limit. */
export interface ContainerResources {
  /** Bytes. */
  memory?: number;
  /** Memory plus swap in bytes; -1 unlimited; unset or 0 with memory set means twice the memory (dockerd). */
  memorySwap?: number;
  /** CPUs × 1e9 (--cpus 1.5 is 1.5e9); wins over cpuQuota/cpuPeriod. */
  nanoCpus?: number;
  cpuShares?: number;
  /** Microseconds per cpuPeriod. */
  cpuQuota?: number;
  cpuPeriod?: number;
  /** "0-2,4". */
  cpusetCpus?: string;
  cpusetMems?: string;
  /** 0 or -1: unlimited. */
  pidsLimit?: number;
  blkioWeight?: number;
}

/**
 * A container in runtime-neutral terms (since 2.0.0): what to run and with what, as docker run
 * asked for it. The driver turns it into its runtime's own configuration and owns every default
 * the description leaves open: capability set, seccomp profile, masked and read-only /proc and
 * /sys paths, device rules, /proc /dev /sys mounts, rlimits, what "privileged" grants on its host.
 * Hooks (OCI prestart …) are not part of it: Berth's own hooks run in the daemon.
 */
export interface ContainerSpec {
  id: string;
  process: ProcessSpec;
  hostname: string;
  /** The container's root file system, already mounted (the graph driver's view); readonly: --read-only. */
  root: { path: string; readonly: boolean };
  /**
   * Bind mounts (-v), the container's own /etc/hostname, /etc/hosts and /etc/resolv.conf (bound
   * over the image's; read-only with --read-only), tmpfs mounts (--tmpfs).
   */
  mounts: MountSpec[];
  /**
   * The network namespace: a path to an existing one to join (the network plugin made it and
   * wired its interfaces), 'host' to stay in the daemon's, unset for a fresh empty one.
   */
  network?: string;
  /** --pid host: no pid namespace of its own; unset: a private one. */
  pidMode?: 'host';
  /** --ipc host: the host's IPC namespace and /dev/shm; unset: private ones. */
  ipcMode?: 'host';
  resources?: ContainerResources;
  /** --privileged: every capability, device and path the driver can give on this host. */
  privileged?: boolean;
  /** --cap-add / --cap-drop as the user typed them: with or without CAP_, any case, or ALL. */
  capAdd?: string[];
  capDrop?: string[];
  /**
   * --security-opt values: no-new-privileges[=true|false], seccomp=unconfined, seccomp=<profile
   * JSON>, apparmor=…, label=…. A driver refuses what it cannot apply with a 400 (E_INVALID).
   */
  securityOpt?: string[];
  /** Bytes of the container's /dev/shm; unset: the driver's default (dockerd's 64 MiB). */
  shmSize?: number;
  /** docker run --init: the host path of an init binary, to run as pid 1 with process.args as its
   * child (dockerd mounts it at /sbin/docker-init). */
  init?: string;
  /** The container's cgroup, relative to the cgroup root (/berth/<id>). */
  cgroupsPath: string;
}

export interface CreateRequest {
  id: string;
  /** A folder of the container's, the driver's to use (runc: config.json and the monitor's files). */
  bundle: string;
  /** What to run (since 2.0.0; 1.x drivers got an OCI spec here, as `spec`). */
  container: ContainerSpec;
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

/**
 * Errors are Berth's coded errors (ctx.errors): an id the driver has no container for is
 * E_NOT_FOUND ("No such container: ID"), a container that is not running where it must be is
 * E_CONFLICT, a description the driver cannot apply is E_INVALID, and the runtime's own failure is
 * a system error that quotes the runtime's words. A method a driver cannot support throws a
 * system error that says so.
 */
export interface ExecDriver {
  readonly name: string;
  /** Version and commit of the runtime binary, for /version and /info. */
  version(): Promise<{ version: string; commit: string }>;
  /**
   * Creates (not starts) the container described by req.container, with the driver's own runtime
   * configuration (since 2.0.0). A client may attach between create and start: it must see the
   * output from the first byte. A failure leaves nothing behind.
   */
  create(req: CreateRequest): Promise<void>;
  /**
   * Starts a created container. Since 1.4.0 it may resolve with the container's host pid, which
   * saves the caller a state() round trip (a runtime process for runc).
   */
  start(id: string): Promise<{ pid: number } | void>;
  state(id: string): Promise<RuntimeState>;
  kill(id: string, signal: string): Promise<void>;
  /** Removes the runtime's record of a stopped container and its monitor's files (killing what
   * still runs). An id the driver does not know is not an error: Berth deletes before each start. */
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
  /** Every container this driver holds, in any state: after a daemon restart (live restore) too,
   * and those a crash of the daemon left half made (created, never started). */
  list(): Promise<string[]>;
  /**
   * Since 2.1.0, optional: the daemon's reconciliation at start. Removes every container the
   * driver holds whose id is not in `keep` (the containers Berth records as running), as delete()
   * does: its processes killed, its monitor, cgroup and files gone. Resolves with the ids removed.
   * Without it, Berth calls delete() for each id of list() not kept.
   */
  prune?(keep: ReadonlySet<string>): Promise<string[]>;
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
