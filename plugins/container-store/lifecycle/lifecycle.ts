// Running containers: start (runtime create + attach + start), the exit watch, stop, kill, wait,
// and attaching clients' connections to the runtime's stdio.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { BerthError, conflict, type JobEvent, notModified, systemError } from '../../../core/plugin-api.js';
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

  /** Starts a container; `byPolicy` for a restart policy's restart (the container is "restarting"). */
  async start(c: Container, emit: (e: JobEvent) => void, byPolicy = false): Promise<void> {
    if (c.State.Running && !byPolicy) throw notModified('container already started');
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
      await driver.delete(c.Id).catch(() => {});
      const logPath = logConfigOf(c.HostConfig).Type === 'none' ? '' : join(dir, 'container.log');
      const bundle = join(dir, 'bundle');
      await mkdir(bundle, { recursive: true, mode: 0o700 });
      await driver.create({
        id: c.Id, bundle, container: input, logPath,
        openStdin: Boolean(c.Config.OpenStdin), stdinOnce: Boolean(c.Config.StdinOnce), tty: Boolean(c.Config.Tty),
      });
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
      if (mounted) await this.graph.driver().put(c.Id).catch(() => {});
      // As dockerd: 127 for a command not found, 126 when it cannot be run, else 128; waiters
      // (docker run's wait) get that code, and --rm removes the container.
      const msg = (err as Error).message;
      const code = /not found|no such file/i.test(msg) ? 127 : /permission denied/i.test(msg) ? 126 : 128;
      c.State = { ...c.State, Error: msg, ExitCode: code };
      await this.store().save(c).catch(() => {});
      this.notify(c.Id, code, ['not-running', 'next-exit']);
      if (c.HostConfig.AutoRemove) {
        await this.onRemove(c).catch(() => {});
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
    driver.waitExit(c.Id).then((exit) => this.exited(c.Id, exit), (err) => this.log.error({ err, container: c.Id }, 'cannot watch container exit'));
  }

  /** Records an exit found at daemon start: no restart from here (the start-up pass decides). */
  recordExit(c: Container, exit: ExitInfo): Promise<void> {
    return this.exited(c.Id, exit, false);
  }

  private async exited(id: string, exit: ExitInfo, mayRestart = true): Promise<void> {
    const c = this.store().find(id);
    if (!c) return;
    const delay = mayRestart ? this.restarts.onExit(c, exit.exitCode, Date.parse(exit.finishedAt) - Date.parse(c.State.StartedAt)) : null;
    const recorded = { ...c.State, ExitCode: exit.exitCode, OOMKilled: exit.oomKilled, FinishedAt: exit.finishedAt };
    c.State = delay === null ? stoppedState(recorded) : restartingState(c.State, exit);
    this.options.observer?.stopped(c);
    await this.store().save(c);
    const driver = await this.driver(c);
    await driver.delete(c.Id).catch((err) => this.log.warn({ err, container: id }, 'runtime delete failed'));
    await this.options.hooks?.stopped.promise(c).catch((err) => this.log.warn({ err, container: id }, 'a stopped hook failed'));
    await this.graph.driver().put(c.Id).catch(() => {});
    if (exit.oomKilled) this.emit(this.event(c, 'oom'));
    this.emit(this.event(c, 'die', { exitCode: String(exit.exitCode) }));
    this.notify(c.Id, exit.exitCode, ['not-running', 'next-exit']);
    if (delay !== null) {
      void this.restartAfter(c.Id, delay);
      return;
    }
    if (c.HostConfig.AutoRemove) {
      await this.onRemove(c);
      this.notify(c.Id, exit.exitCode, ['removed']);
    }
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
    await this.store().save(c).catch((err) => this.log.warn({ err, container: id }, 'cannot record container state'));
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
    if (condition === 'not-running' && !c.State.Running) return Promise.resolve(c.State.ExitCode);
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(c.Id) ?? [];
      const waiter = { condition, resolve };
      list.push(waiter);
      this.waiters.set(c.Id, list);
      signal.addEventListener('abort', () => {
        this.waiters.set(c.Id, (this.waiters.get(c.Id) ?? []).filter((w) => w !== waiter));
        reject(new Error('wait cancelled'));
      }, { once: true });
    });
  }

  async kill(c: Container, signal: string, emit: (e: JobEvent) => void): Promise<void> {
    if (!c.State.Running) throw conflict(`Container ${c.Id} is not running`);
    const name = /^\d+$/.test(signal) ? signal : signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`;
    this.restarts.userSignal(c, name);
    await this.store().save(c);
    // A container between restarts has no process: the canceled back-off is what stops it.
    if (c.State.Restarting) return;
    const driver = await this.driver(c);
    // A process that just died (its exit not yet recorded) is not an error, as in dockerd.
    await driver.kill(c.Id, name).catch((err) => {
      if (!(err instanceof BerthError && (err.code === 'E_NOT_FOUND' || /not running/.test(err.message)))) throw err;
    });
    emit(this.event(c, 'kill', { signal: String(signalNumber[name] ?? name) }));
  }

  /** docker stop; `byDaemon` for the daemon's own stops (shutdown, start without live-restore): not a user's stop. */
  async stop(c: Container, timeoutSeconds: number | undefined, emit: (e: JobEvent) => void, byDaemon = false): Promise<void> {
    if (!c.State.Running) throw notModified('container already stopped');
    const driver = await this.driver(c);
    const exited = new Promise<void>((resolve) => {
      const list = this.waiters.get(c.Id) ?? [];
      list.push({ condition: 'next-exit', resolve: () => resolve() });
      this.waiters.set(c.Id, list);
    });
    const stopSignal = c.Config.StopSignal || 'SIGTERM';
    if (byDaemon) this.restarts.cancel(c.Id);
    else this.restarts.userSignal(c, stopSignal);
    await this.store().save(c);
    if (!c.State.Restarting) await driver.kill(c.Id, stopSignal).catch(() => {});
    const t = timeoutSeconds ?? (c.Config as { StopTimeout?: number }).StopTimeout ?? 10;
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), t * 1000).unref());
    if ((await Promise.race([exited.then(() => 'exited' as const), timer])) === 'timeout') {
      await driver.kill(c.Id, 'SIGKILL').catch(() => {});
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
    }
    emit(this.event(c, 'stop'));
  }

  async pause(c: Container, emit: (e: JobEvent) => void): Promise<void> {
    if (!c.State.Running) throw conflict(`Container ${c.Id} is not running`);
    if (c.State.Paused) throw conflict(`Container ${c.Id} is already paused`);
    if (c.State.Restarting) throw conflict(`Container ${c.Id} is restarting, wait until the container is running`);
    await (await this.driver(c)).pause(c.Id);
    c.State = { ...c.State, Status: 'paused', Paused: true };
    this.options.observer?.stopped(c);
    await this.store().save(c);
    emit(this.event(c, 'pause'));
  }

  async unpause(c: Container, emit: (e: JobEvent) => void): Promise<void> {
    if (!c.State.Paused) throw conflict(`Container ${c.Id} is not paused`);
    await (await this.driver(c)).resume(c.Id);
    c.State = { ...c.State, Status: 'running', Paused: false };
    this.options.observer?.resumed(c);
    await this.store().save(c);
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
