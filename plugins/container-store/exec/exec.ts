// docker exec: processes run inside a running container, kept in memory as dockerd keeps them.
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { conflict, invalid, type JobEvent, notFound, type PluginContext, systemError } from '../../../core/plugin-api.js';
import type { RuntimesService } from '../../exec/index.js';
import { resolveUser } from '../../../lib/resolve-user.js';
import type { GraphService } from '../../graph/index.js';
import { parseDetachKeys } from '../lifecycle/index.js';
import { pipeStdio, type ContainerRuntime } from '../lifecycle/index.js';
import { containerEnv, replaceOrAppendEnv } from '../lifecycle/index.js';
import type { ContainerStore } from '../records/index.js';

export interface ExecConfig {
  AttachStdin?: boolean; AttachStdout?: boolean; AttachStderr?: boolean; Tty?: boolean;
  Cmd?: string[]; Env?: string[]; WorkingDir?: string; User?: string; Privileged?: boolean; DetachKeys?: string;
  /** API 1.42: [height, width] of the exec's terminal from its start. */
  ConsoleSize?: number[] | null;
}

interface ExecRecord {
  id: string;
  containerId: string;
  config: ExecConfig;
  running: boolean;
  exitCode: number | null;
  pid: number;
  detachKeys: Buffer;
  /** Settles once start has run the process (true) or failed (false): resizes wait for it. */
  started: Promise<boolean>;
  markStarted: (ok: boolean) => void;
}

/** How long a resize waits for its exec to start, as dockerd. */
const START_WAIT_MS = 10_000;

export class Execs {
  private readonly execs = new Map<string, ExecRecord>();

  constructor(
    private readonly store: () => ContainerStore,
    private readonly runtime: () => ContainerRuntime,
    private readonly runtimes: RuntimesService,
    private readonly graph: GraphService,
  ) {}

  create(containerRef: string, config: ExecConfig, emit: (e: JobEvent) => void): string {
    const c = this.store().get(containerRef);
    if (!c.State.Running) throw conflict(`Container ${c.Id} is not running`);
    if (c.State.Paused) throw conflict(`Container ${c.Id} is paused, unpause the container before exec`);
    if (c.State.Restarting) throw conflict(`Container ${c.Id} is restarting, wait until the container is running`);
    if (!config.Cmd?.length) throw conflict('No exec command specified');
    let detachKeys: Buffer;
    try {
      detachKeys = parseDetachKeys(config.DetachKeys ?? '');
    } catch {
      throw invalid(`Invalid escape keys (${config.DetachKeys}) provided`);
    }
    const id = randomBytes(32).toString('hex');
    let markStarted!: (ok: boolean) => void;
    const started = new Promise<boolean>((resolve) => (markStarted = resolve));
    this.execs.set(id, { id, containerId: c.Id, config, running: false, exitCode: null, pid: 0, detachKeys, started, markStarted });
    emit(this.runtime().event(c, `exec_create: ${config.Cmd.join(' ')}`, { execID: id }));
    return id;
  }

  get(id: string): ExecRecord {
    const e = this.execs.get(id);
    if (!e) throw notFound(`No such exec instance: ${id}`);
    return e;
  }

  inspect(id: string) {
    const e = this.get(id);
    const [entrypoint, ...args] = e.config.Cmd ?? [];
    return {
      ID: e.id, Running: e.running, ExitCode: e.exitCode, Pid: e.pid, ContainerID: e.containerId,
      OpenStdin: Boolean(e.config.AttachStdin), OpenStdout: Boolean(e.config.AttachStdout), OpenStderr: Boolean(e.config.AttachStderr),
      CanRemove: false, DetachKeys: '',
      ProcessConfig: { tty: Boolean(e.config.Tty), entrypoint, arguments: args, privileged: Boolean(e.config.Privileged), user: e.config.User ?? '' },
    };
  }

  /** Starts the process and connects it to the hijacked client; resolves when it has begun. */
  async start(id: string, socket: Duplex | undefined, emit: (e: JobEvent) => void, detachKeys?: Buffer): Promise<void> {
    const e = this.get(id);
    if (e.running || e.exitCode !== null) throw conflict(`Exec ${id} has already been started`);
    try {
      await this.run(e, socket, emit, detachKeys);
      e.markStarted(true);
    } catch (err) {
      e.markStarted(false);
      throw err;
    }
  }

  /** Without a socket the exec is detached (docker exec -d): no stdin, its output discarded. */
  private async run(e: ExecRecord, socket: Duplex | undefined, emit: (e: JobEvent) => void, detachKeys?: Buffer): Promise<void> {
    const c = this.store().get(e.containerId);
    if (!c.State.Running) throw conflict(`Container ${c.Id} is not running`);
    const driver = await this.runtimes.get((c.HostConfig.Runtime as string | undefined) || undefined);
    const rootfs = await this.graph.driver().get(c.Id);
    let user;
    try {
      user = await resolveUser(rootfs, e.config.User || c.Config.User || undefined, (c.HostConfig.GroupAdd as string[] | null) ?? []);
    } finally {
      await this.graph.driver().put(c.Id);
    }
    // As dockerd: the container's environment (with this exec's TERM), then the exec's Env.
    const env = replaceOrAppendEnv(containerEnv(c, Boolean(e.config.Tty)), e.config.Env ?? []);
    e.running = true;
    const { stdio, exited, pid } = await driver.exec(c.Id, {
      execId: driverExecId(e.id), args: e.config.Cmd!, env, cwd: e.config.WorkingDir || c.Config.WorkingDir || '/',
      user, tty: Boolean(e.config.Tty), openStdin: Boolean(socket && e.config.AttachStdin), privileged: Boolean(e.config.Privileged),
    }).catch((err) => { e.running = false; e.exitCode = 126; throw err; });
    e.pid = pid ?? 0;
    const [rows, cols] = e.config.ConsoleSize ?? [];
    if (e.config.Tty && rows > 0 && cols > 0 && driver.resize) await driver.resize(c.Id, driverExecId(e.id), rows, cols).catch(() => {});
    emit(this.runtime().event(c, `exec_start: ${e.config.Cmd!.join(' ')}`, { execID: e.id }));
    // The exit is recorded before the client's stream ends, so its GET /exec/{id}/json sees it.
    const recorded = exited.then((x) => { e.running = false; e.exitCode = x.exitCode; }, () => { e.running = false; e.exitCode = -1; });
    if (!socket) {
      // Read and dropped, as dockerd drops a detached exec's output: a full pipe would stall it.
      stdio.output.on('error', () => {}).resume();
      void recorded.finally(() => stdio.close());
      return;
    }
    pipeStdio(stdio, {
      socket, beforeEnd: recorded, detachKeys: detachKeys ?? e.detachKeys,
      onDetach: () => this.runtime().emit(this.runtime().event(c, 'detach', { execID: e.id })),
      stdin: Boolean(e.config.AttachStdin), stdout: e.config.AttachStdout !== false, stderr: e.config.AttachStderr !== false,
    }, Boolean(e.config.Tty), true);
  }

  /** POST /exec/{id}/resize: the exec's terminal, once it has started (waiting as dockerd). */
  async resize(id: string, height: number, width: number): Promise<void> {
    const e = this.get(id);
    const c = this.store().get(e.containerId);
    if (c.State.Paused) throw conflict(`Container ${c.Id} is paused, unpause the container before exec`);
    if (!c.State.Running) throw conflict(`Container ${c.Id} is not running`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), START_WAIT_MS)));
    const started = await Promise.race([e.started, timeout]).finally(() => clearTimeout(timer));
    if (started === 'timeout') throw systemError('timeout waiting for exec session ready');
    if (!started) throw invalid('exec process is not started');
    // An exec without a terminal, or one that has ended, has nothing to size.
    if (!e.config.Tty || !e.running) return;
    const driver = await this.runtimes.get((c.HostConfig.Runtime as string | undefined) || undefined);
    if (!driver.resize) throw systemError(`runtime ${driver.name} cannot resize a terminal`);
    await driver.resize(c.Id, driverExecId(e.id), height, width);
  }
}

/** The id the runtime knows an exec by: short, so conmon's socket paths fit. */
const driverExecId = (id: string) => id.slice(0, 32);

// The body of POST /containers/{id}/exec as dockerd decodes it: null leaves a field unset, unknown keys are ignored.
const str = { type: ['string', 'null'] };
const bool = { type: ['boolean', 'null'] };
const strList = { type: ['array', 'null'], items: { type: 'string' } };
const execConfigSchema = {
  type: 'object',
  properties: {
    AttachStdin: bool, AttachStdout: bool, AttachStderr: bool, Tty: bool, Privileged: bool,
    Cmd: strList, Env: strList, WorkingDir: str, User: str, DetachKeys: str,
    ConsoleSize: { type: ['array', 'null'], items: { type: 'integer', minimum: 0 } },
  },
};
const idSchema = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1 } } };

export function registerExecJobs(ctx: PluginContext, execs: Execs): void {
  ctx.engine.register<{ name: string; config: ExecConfig }, { Id: string }>('exec.create', {
    description: 'prepares a process to run in a container (docker exec)',
    schema: { type: 'object', required: ['name', 'config'], properties: { name: { type: 'string', minLength: 1 }, config: execConfigSchema } },
    run: (job) => ({ Id: execs.create(job.payload.name, job.payload.config ?? {}, (ev) => job.emit(ev)) }),
  });
  ctx.engine.register<{ id: string; socket?: Duplex; detach?: boolean; detachKeys?: Buffer }, void>('exec.start', {
    description: 'runs a prepared exec, its stdio on a hijacked connection, or detached (docker exec -d)',
    // socket is the hijacked connection (a Duplex), detachKeys a Buffer: objects, as far as JSON Schema sees.
    schema: {
      type: 'object', required: ['id'],
      properties: { ...idSchema.properties, socket: { type: 'object' }, detach: { const: true }, detachKeys: { type: 'object' } },
      oneOf: [{ required: ['socket'] }, { required: ['detach'] }],
    },
    run: (job) => execs.start(job.payload.id, job.payload.detach ? undefined : job.payload.socket, (ev) => job.emit(ev), job.payload.detachKeys),
  });
  ctx.engine.register<{ id: string }, unknown>('exec.inspect', {
    description: 'an exec in detail, with its exit code once it ended',
    schema: idSchema,
    run: (job) => execs.inspect(job.payload.id),
  });
}
