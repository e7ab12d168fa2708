// Running containers: start (runtime create + attach + start), the exit watch, stop, kill, wait,
// and attaching clients' connections to the runtime's stdio.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { BerthError, conflict, type JobEvent, notFound, notModified, systemError } from '../../../core/plugin-api.js';
import type { ExecDriver, ExitInfo, StdioHandle } from '../../exec/index.js';
import type { RuntimesService } from '../../exec/index.js';
import type { GraphService } from '../../graph/index.js';
import { frame, STDERR, STDOUT } from '../../../lib/stdcopy.js';
import { containerEvent, type Container } from '../records/index.js';
import type { RuntimeOptions } from './runtime-options.js';
import { RestartManager, restartingState, stoppedState } from './restart-manager.js';
import { DEFAULT_DETACH_KEYS, forwardWithDetach } from './detach-keys.js';
import { logConfigOf } from '../logs/index.js';
import { containerSpecFor, networkPeerRef } from './runtime-spec.js';
import { joinNamespaces, releaseShm, setupShm } from './namespaces.js';
import { ContainerLocks } from './container-locks.js';
import type { ContainerStore } from '../records/index.js';

export interface AttachClient {
  socket: Duplex;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  /** Settles before the client's stream is ended (an exec's exit code recorded first). */
  beforeEnd?: Promise<unknown>;
  /** On a terminal: the sequence that detaches (default ctrl-p ctrl-q), and what then happens. */
  detachKeys?: Buffer;
  onDetach?: () => void;
}

type WaitCondition = 'not-running' | 'next-exit' | 'removed';
interface Waiter { condition: WaitCondition; resolve: (code: number) => void }

const signalNumber: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15 };

export class ContainerRuntime {
  private readonly pendingAttach = new Map<string, AttachClient[]>();
  private readonly waiters = new Map<string, Waiter[]>();
  readonly restarts = new RestartManager();
  /** Containers in a restart job (docker restart): their stop is on the way to a start. */
  readonly restartJobs = new Set<string>();
  /** Exits being recorded: the state says stopped before the runtime, hooks and mount are released. */
  private readonly cleanups = new Map<string, Promise<void>>();
  /** Per-container serialisation of state changes (dockerd's container lock). */
  readonly locks = new ContainerLocks();

  constructor(
    private readonly store: () => ContainerStore,
    private readonly runtimes: RuntimesService,
    private readonly graph: GraphService,
    private readonly log: Logger,
    /** Publishes an event outside any job (an exit, a detach). */
    readonly emit: (e: JobEvent) => void,
    private readonly onRemove: (c: Container) => Promise<void>,
    private readonly options: RuntimeOptions = {},
  ) {}

  event(c: Container, action: string, extra: Record<string, string> = {}): JobEvent {
    return containerEvent(c, action, extra);
  }

  private driver(c: Container): Promise<ExecDriver> {
    return this.runtimes.get((c.HostConfig.Runtime as string | undefined) || undefined);
  }

  /** The record as it is now (a rename replaces it), under the container's lock. */
  private current(c: Container): Container {
    const now = this.store().find(c.Id);
    if (!now) throw notFound(`No such container: ${c.Id}`);
    return now;
  }

  /** Starts a container; `byPolicy` for a restart policy's restart (the container is "restarting"). */
  start(c: Container, emit: (e: JobEvent) => void, byPolicy = false): Promise<void> {
    return this.locks.run(c.Id, () => this.startLocked(this.current(c), emit, byPolicy));
  }

  private async startLocked(c: Container, emit: (e: JobEvent) => void, byPolicy: boolean): Promise<void> {
    if (c.State.Running && !byPolicy) throw notModified('container already started');
    if (this.locks.isRemoving(c.Id)) throw conflict('container is marked for removal and cannot be started');
    if (!byPolicy) this.restarts.reset(c);
    const dir = this.store().dir(c.Id);
    // Every failure, from an unknown runtime on, goes through the catch: waiters must hear of it.
    let driver: ExecDriver | undefined;
    let mounted = false;
    try {
      driver = await this.driver(c);
      const rootfs = await this.graph.driver().get(c.Id);
      mounted = true;
      const peer = networkPeerRef(c);
      const input = await containerSpecFor(c, rootfs, dir, this.options, peer ? this.store().find(peer) : undefined);
      // Other plugins add their part: the network plugin its namespace and files, volumes their mounts.
      await this.options.hooks?.starting.promise({ container: c, dir, spec: input });
      // --ipc/--pid container:<id>: the donors' namespaces, after the network's (dockerd's order).
      const runtimeName = (c.HostConfig.Runtime as string | undefined) || this.runtimes.defaultName();
      const driverApi = this.runtimes.describe()[runtimeName]?.status['berth.exec-driver-api'] ?? '1.0.0';
      joinNamespaces(c, input, (ref) => this.store().find(ref), driverApi, (id) => this.store().dir(id));
      await setupShm(c, input, dir);
      await driver.delete(c.Id).catch(() => {});
      const logPath = logConfigOf(c.HostConfig).Type === 'none' ? '' : join(dir, 'container.log');
      const bundle = join(dir, 'bundle');
      await mkdir(bundle, { recursive: true, mode: 0o700 });
      await driver.create({
        id: c.Id, bundle, container: input, logPath,
        openStdin: Boolean(c.Config.OpenStdin), stdinOnce: Boolean(c.Config.StdinOnce), tty: Boolean(c.Config.Tty),
      });
      // API 1.42 ConsoleSize: the terminal has its size before the first byte is written.
      const [rows, cols] = (c.HostConfig.ConsoleSize as number[] | null | undefined) ?? [];
      if (c.Config.Tty && rows > 0 && cols > 0 && driver.resize) await driver.resize(c.Id, undefined, rows, cols);
      // Clients that attached before start see the output from the first byte.
      for (const client of this.pendingAttach.get(c.Id) ?? []) await this.connect(c, driver, client);
      this.pendingAttach.delete(c.Id);
      const started = await driver.start(c.Id);
      const state = started ?? await driver.state(c.Id);
      c.State = { ...c.State, Status: 'running', Running: true, Paused: false, Restarting: false, Pid: state.pid, ExitCode: 0, Error: '', OOMKilled: false, StartedAt: new Date().toISOString() };
      c.LogPath = logPath;
      c.MountPoints = input.mounts.filter((m) => m.type === 'bind').map((m) => ({ source: m.source, destination: m.destination, readonly: Boolean(m.readonly) }));
      this.options.observer?.started(c);
      await this.store().save(c);
    } catch (err) {
      // Clients attached for this start learn of the failure by the end of their stream.
      for (const client of this.pendingAttach.get(c.Id) ?? []) client.socket.end();
      this.pendingAttach.delete(c.Id);
      await driver?.delete(c.Id).catch(() => {});
      await this.options.hooks?.stopped.promise(c).catch(() => {});
      await releaseShm(dir).catch(() => {});
      if (mounted) await this.graph.driver().put(c.Id).catch(() => {});
      // As dockerd: 127 for a command not found, 126 when it cannot be run, else 128; waiters
      // (docker run's wait) get that code, and --rm removes the container.
      const msg = (err as Error).message;
      const code = /not found|no such file/i.test(msg) ? 127 : /permission denied/i.test(msg) ? 126 : 128;
      c.State = { ...c.State, Error: msg, ExitCode: code };
      await this.store().record(c);
      this.notify(c.Id, code, ['not-running', 'next-exit']);
      // Under this start's lock already: the removal runs here, not behind it.
      if (c.HostConfig.AutoRemove && this.locks.beginRemoval(c.Id)) {
        await this.onRemove(c).catch(() => {}).finally(() => this.locks.endRemoval(c.Id));
        this.notify(c.Id, code, ['removed']);
      }
      throw err;
    }
    this.options.hooks?.started.call(c);
    emit(this.event(c, 'start'));
    this.watchExit(c, driver);
  }

  /** Records the exit whenever it comes (also one that happened while the daemon was down). */
  watchExit(c: Container, driver: ExecDriver): void {
    driver.waitExit(c.Id).then(
      (exit) => this.exited(c.Id, exit).catch((err) => this.log.error({ err, container: c.Id }, 'cannot record container exit')),
      (err) => this.log.error({ err, container: c.Id }, 'cannot watch container exit'),
    );
  }

  /** Records an exit found at daemon start: no restart from here (the start-up pass decides). */
  recordExit(c: Container, exit: ExitInfo): Promise<void> {
    return this.exited(c.Id, exit, false);
  }

  /** Resolves once an exit being recorded has released the container's runtime state and file system. */
  cleanedUp(id: string): Promise<void> {
    return this.cleanups.get(id) ?? Promise.resolve();
  }

  private async exited(id: string, exit: ExitInfo, mayRestart = true): Promise<void> {
    const c = this.store().find(id);
    if (!c) return;
    // As dockerd, waiters (docker wait, rm) hear of the exit only once the container is
    // cleaned up: an rm right after must not find its layer still mounted.
    let cleaned!: () => void;
    this.cleanups.set(id, new Promise<void>((resolve) => (cleaned = resolve)));
    let delay: number | null;
    try {
      delay = await this.releaseAfterExit(c, exit, mayRestart);
    } finally {
      this.cleanups.delete(id);
      cleaned();
    }
    if (delay !== null) {
      void this.restartAfter(c.Id, delay);
      return;
    }
    // --rm: unless a docker rm already removes it (that one notifies its waiters).
    if (c.HostConfig.AutoRemove && this.locks.beginRemoval(id)) {
      try {
        await this.locks.run(id, () => this.onRemove(c));
      } finally {
        this.locks.endRemoval(id);
      }
      this.notify(c.Id, exit.exitCode, ['removed']);
    }
  }

  /** The exit on disk, then the runtime, hooks and mount released, then waiters told; the restart delay or null. */
  private async releaseAfterExit(c: Container, exit: ExitInfo, mayRestart: boolean): Promise<number | null> {
    const id = c.Id;
    const delay = mayRestart ? this.restarts.onExit(c, exit.exitCode, Date.parse(exit.finishedAt) - Date.parse(c.State.StartedAt)) : null;
    const recorded = { ...c.State, ExitCode: exit.exitCode, OOMKilled: exit.oomKilled, FinishedAt: exit.finishedAt };
    c.State = delay === null ? stoppedState(recorded) : restartingState(c.State, exit);
    this.options.observer?.stopped(c);
    // The process is gone whatever the disk says: a failed write (a full disk) is retried, not fatal.
    await this.store().record(c);
    const driver = await this.driver(c);
    await driver.delete(c.Id).catch((err) => this.log.warn({ err, container: id }, 'runtime delete failed'));
    await this.options.hooks?.stopped.promise(c).catch((err) => this.log.warn({ err, container: id }, 'a stopped hook failed'));
    await releaseShm(this.store().dir(id)).catch((err) => this.log.warn({ err, container: id }, 'cannot unmount /dev/shm'));
    await this.graph.driver().put(c.Id).catch(() => {});
    if (exit.oomKilled) this.emit(this.event(c, 'oom'));
    this.emit(this.event(c, 'die', { exitCode: String(exit.exitCode) }));
    this.notify(c.Id, exit.exitCode, ['not-running', 'next-exit']);
    return delay;
  }

  /** The restart policy's restart, after its back-off; a stop, kill or rm during it cancels it. */
  private async restartAfter(id: string, delayMs: number): Promise<void> {
    const go = await this.restarts.backOff(id, delayMs);
    const c = this.store().find(id);
    if (!c) return;
    if (go) {
      try {
        await this.start(c, this.emit, true);
        // A stop, kill or rm that came while it was starting: this run is the last.
        if (this.restarts.isCanceled(id)) await (await this.driver(c)).kill(id, 'SIGKILL').catch(() => {});
        return;
      } catch (err) {
        this.log.warn({ err, container: id }, 'restart policy: cannot start the container again');
      }
    }
    c.State = stoppedState(c.State);
    await this.store().record(c);
    this.notify(id, c.State.ExitCode, ['not-running', 'next-exit']);
  }

  notify(id: string, code: number, conditions: WaitCondition[]): void {
    const list = this.waiters.get(id) ?? [];
    const keep = list.filter((w) => {
      if (!conditions.includes(w.condition)) return true;
      w.resolve(code);
      return false;
    });
    if (keep.length) this.waiters.set(id, keep);
    else this.waiters.delete(id);
  }

  /** POST /containers/{id}/wait: resolves with the exit code once the condition holds. */
  wait(c: Container, condition: WaitCondition, signal: AbortSignal): Promise<number> {
    if (condition === 'not-running' && !c.State.Running) return this.cleanedUp(c.Id).then(() => c.State.ExitCode);
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(c.Id) ?? [];
      // The signal may be the daemon's own (rm -f's job): its listener goes with the wait, or
      // every wait would leave one on it for the daemon's life.
      const cancel = () => {
        this.waiters.set(c.Id, (this.waiters.get(c.Id) ?? []).filter((w) => w !== waiter));
        reject(new Error('wait cancelled'));
      };
      const waiter: Waiter = { condition, resolve: (code) => { signal.removeEventListener('abort', cancel); resolve(code); } };
      list.push(waiter);
      this.waiters.set(c.Id, list);
      signal.addEventListener('abort', cancel, { once: true });
    });
  }

  kill(c: Container, signal: string, emit: (e: JobEvent) => void): Promise<void> {
    return this.locks.run(c.Id, () => this.killLocked(this.current(c), signal, emit));
  }

  private async killLocked(c: Container, signal: string, emit: (e: JobEvent) => void): Promise<void> {
    if (!c.State.Running) throw conflict(`Container ${c.Id} is not running`);
    const name = /^\d+$/.test(signal) ? signal : signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`;
    // SIGKILL, as dockerd's Kill: the answer waits until the container has stopped (inspect
    // right after says exited, 137), 10 s, then 2 s more before it gives up. Registered before
    // any await, so an exit recorded meanwhile is not missed.
    const exited = name === 'SIGKILL' || name === '9' ? this.nextExit(c.Id) : undefined;
    this.restarts.userSignal(c, name);
    try {
      await this.store().save(c);
    } catch (err) {
      exited?.cancel();
      throw err;
    }
    // A container between restarts has no process: the canceled back-off is what stops it.
    if (c.State.Restarting) {
      exited?.cancel();
      return;
    }
    try {
      const driver = await this.driver(c);
      // A process that just died (its exit not yet recorded) is not an error, as in dockerd.
      await driver.kill(c.Id, name).catch((err) => {
        if (!(err instanceof BerthError && (err.code === 'E_NOT_FOUND' || /not running/.test(err.message)))) throw err;
      });
    } catch (err) {
      exited?.cancel();
      throw err;
    }
    emit(this.event(c, 'kill', { signal: String(signalNumber[name] ?? name) }));
    if (!exited) return;
    const driver = await this.driver(c);
    const within = (ms: number) => Promise.race([exited.promise.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), ms).unref())]);
    if (await within(10_000)) return;
    this.log.warn({ container: c.Id }, 'container did not exit within 10 s of SIGKILL; sending it again');
    await driver.kill(c.Id, 'SIGKILL').catch(() => {});
    if (await within(2_000)) return;
    exited.cancel();
    throw systemError('tried to kill container, but did not receive an exit event');
  }

  /** A waiter for the container's next exit, registered now (before any await can miss it). */
  private nextExit(id: string): { promise: Promise<number>; cancel: () => void } {
    let waiter!: Waiter;
    const promise = new Promise<number>((resolve) => (waiter = { condition: 'next-exit', resolve }));
    const list = this.waiters.get(id) ?? [];
    list.push(waiter);
    this.waiters.set(id, list);
    return { promise, cancel: () => this.notifyOne(id, waiter) };
  }

  private notifyOne(id: string, waiter: Waiter): void {
    const keep = (this.waiters.get(id) ?? []).filter((w) => w !== waiter);
    if (keep.length) this.waiters.set(id, keep);
    else this.waiters.delete(id);
  }

  /**
   * docker stop; `byDaemon` for the daemon's own stops (shutdown, start without live-restore): not a user's stop.
   * `signal` (API 1.42 `?signal=`) replaces the container's stop signal for this stop.
   */
  async stop(c: Container, timeoutSeconds: number | undefined, emit: (e: JobEvent) => void, byDaemon = false, signal?: string): Promise<void> {
    // The check and the stop signal under the lock; the wait for the exit outside it.
    const { driver, exited } = await this.locks.run(c.Id, async () => {
      c = this.current(c);
      if (!c.State.Running) throw notModified('container already stopped');
      const driver = await this.driver(c);
      const exited = new Promise<void>((resolve) => {
        const list = this.waiters.get(c.Id) ?? [];
        list.push({ condition: 'next-exit', resolve: () => resolve() });
        this.waiters.set(c.Id, list);
      });
      const stopSignal = signal || c.Config.StopSignal || 'SIGTERM';
      if (byDaemon) this.restarts.cancel(c.Id);
      else this.restarts.userSignal(c, stopSignal);
      await this.store().save(c);
      if (!c.State.Restarting) await driver.kill(c.Id, stopSignal).catch(() => {});
      return { driver, exited };
    });
    const t = timeoutSeconds ?? (c.Config as { StopTimeout?: number }).StopTimeout ?? 10;
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), t * 1000).unref());
    if ((await Promise.race([exited.then(() => 'exited' as const), timer])) === 'timeout') {
      await driver.kill(c.Id, 'SIGKILL').catch(() => {});
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
    }
    emit(this.event(c, 'stop'));
  }

  pause(c: Container, emit: (e: JobEvent) => void): Promise<void> {
    return this.locks.run(c.Id, () => this.pauseLocked(this.current(c), emit));
  }

  private async pauseLocked(c: Container, emit: (e: JobEvent) => void): Promise<void> {
    if (!c.State.Running) throw conflict(`Container ${c.Id} is not running`);
    if (c.State.Paused) throw conflict(`Container ${c.Id} is already paused`);
    if (c.State.Restarting) throw conflict(`Container ${c.Id} is restarting, wait until the container is running`);
    const driver = await this.driver(c);
    await driver.pause(c.Id);
    c.State = { ...c.State, Status: 'paused', Paused: true };
    try {
      await this.store().save(c);
    } catch (err) {
      // Not on disk, not done: the record is as it was, so is the process.
      await driver.resume(c.Id).catch(() => {});
      throw err;
    }
    this.options.observer?.stopped(c);
    emit(this.event(c, 'pause'));
  }

  unpause(c: Container, emit: (e: JobEvent) => void): Promise<void> {
    return this.locks.run(c.Id, () => this.unpauseLocked(this.current(c), emit));
  }

  private async unpauseLocked(c: Container, emit: (e: JobEvent) => void): Promise<void> {
    if (!c.State.Paused) throw conflict(`Container ${c.Id} is not paused`);
    const driver = await this.driver(c);
    await driver.resume(c.Id);
    c.State = { ...c.State, Status: 'running', Paused: false };
    try {
      await this.store().save(c);
    } catch (err) {
      await driver.pause(c.Id).catch(() => {});
      throw err;
    }
    this.options.observer?.resumed(c);
    emit(this.event(c, 'unpause'));
  }

  /** Attaches a client: now if running, else at the next start. */
  async attach(c: Container, client: AttachClient, emit: (e: JobEvent) => void): Promise<void> {
    emit(this.event(c, 'attach'));
    client.onDetach ??= () => this.emit(this.event(c, 'detach'));
    if (c.State.Running) {
      await this.connect(c, await this.driver(c), client);
      return;
    }
    const list = this.pendingAttach.get(c.Id) ?? [];
    list.push(client);
    this.pendingAttach.set(c.Id, list);
    client.socket.once('close', () => this.pendingAttach.set(c.Id, (this.pendingAttach.get(c.Id) ?? []).filter((x) => x !== client)));
  }

  private async connect(c: Container, driver: ExecDriver, client: AttachClient): Promise<void> {
    let handle: StdioHandle;
    try {
      handle = await driver.attach(c.Id);
    } catch (err) {
      client.socket.destroy();
      throw systemError(`attach to container ${c.Id}: ${(err as Error).message}`);
    }
    pipeStdio(handle, client, Boolean(c.Config.Tty), Boolean(c.Config.StdinOnce));
  }
}

/** Container output to the client (raw for a TTY, framed otherwise); client input to stdin. */
export function pipeStdio(handle: StdioHandle, client: AttachClient, tty: boolean, stdinOnce: boolean): void {
  const sock = client.socket;
  let detached = false;
  (async () => {
    for await (const chunk of handle.output) {
      const { stream, data } = chunk as { stream: 'stdout' | 'stderr'; data: Buffer };
      if (stream === 'stdout' && !client.stdout) continue;
      if (stream === 'stderr' && !client.stderr) continue;
      sock.write(tty ? data : frame(stream === 'stdout' ? STDOUT : STDERR, data));
    }
  })().catch(() => {}).finally(async () => {
    if (!detached) await client.beforeEnd?.catch(() => {});
    sock.end();
  });
  if (client.stdin && handle.stdin && tty) {
    // A terminal: the detach keys, or the end of the client's input, end this client's stream
    // and leave the process running with its stdin open (dockerd's copyEscapable).
    const leave = () => { detached = true; handle.close(); };
    const input = forwardWithDetach(sock, handle.stdin, client.detachKeys ?? DEFAULT_DETACH_KEYS, () => { leave(); client.onDetach?.(); });
    sock.on('end', () => { input.flush(); leave(); });
  } else if (client.stdin && handle.stdin) {
    const stdin = handle.stdin;
    sock.on('data', (d: Buffer) => stdin.write(d));
    // The client's half-close ends the process's stdin only for StdinOnce (docker run -i).
    sock.on('end', () => { if (stdinOnce) stdin.end(); });
  }
  // Explicitly: reading exec start's body may have paused the connection, and a paused stream
  // stays paused when a 'data' listener is added (the client's typing would never arrive).
  sock.resume();
  sock.on('close', () => handle.close());
  sock.on('error', () => handle.close());
}
