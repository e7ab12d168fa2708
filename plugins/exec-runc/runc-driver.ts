// The exec driver for runc (and crun, which has the same command line), with conmon as each
// container's monitor: conmon holds the stdio, writes the log and the exit file, and outlives the
// daemon, so a restarted daemon finds its containers through the runtime and the exit folder.
import { access, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { conflict, invalid, notFound, systemError } from '../../core/plugin-api.js';
import type { CreateRequest, ExecDriver, ExecRequest, ExitInfo, LinuxResources, LogReadOptions, RuntimeState, RuntimeStatus } from '../exec/index.js';
import { isMissing, runCommand } from '../../lib/host-cmd.js';
import { connectAttach } from './attach-socket.js';
import { removeCgroup } from './cgroup-paths.js';
import { containerPids, containerStats, updateResources } from './cgroup-driver-ops.js';
import { containerArgs, execArgs } from './conmon-args.js';
import { startConmon, type ConmonHandle, type SyncMessage } from './conmon-process.js';
import { writeTerminalSize } from './terminal-size.js';
import { ExitWatcher, readExitFile, rfc3339Nano } from './exit-files.js';
import { hostBoundingCapabilities, hostNofileLimit } from './host-limits.js';
import { reopenConmonLog, rotateLogFiles } from './log-files.js';
import { readLogs } from './log-reader.js';
import { wasOomKilled } from './oom-status.js';
import { monitorRunning, stopMonitor } from './monitor-process.js';
import { buildOciSpec, type HostFacts } from './oci-spec.js';
import { listHostDevices } from './host-devices.js';
import { RuntimeCli, parseVersion } from './runtime-cli.js';
import { StateLayout, type ContainerMeta } from './state-layout.js';

export interface RuncDriverOptions {
  runtimePath: string;
  name: string;
  stateDir: string;
  log: Logger;
  conmonPath?: string;
  /** How long conmon may take to report the container created. */
  createTimeoutMs?: number;
}

const exists = (p: string) => access(p).then(() => true, () => false);
const VALID_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
// Files conmon makes in a bundle: removed with the container so nothing of it stays behind.
const CONMON_BUNDLE_FILES = ['attach', 'ctl', 'winsz', 'oom'];

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms} ms`)), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export async function createRuncDriver(opts: RuncDriverOptions): Promise<ExecDriver> {
  const driver = new RuncDriver(opts);
  await driver.init();
  return driver;
}

class RuncDriver implements ExecDriver {
  readonly name: string;
  private readonly layout: StateLayout;
  private readonly cli: RuntimeCli;
  private readonly conmonPath: string;
  private readonly exits: ExitWatcher;
  private readonly log: Logger;
  private host: Promise<HostFacts> | undefined;

  constructor(private readonly opts: RuncDriverOptions) {
    this.name = opts.name;
    this.layout = new StateLayout(opts.stateDir);
    this.cli = new RuntimeCli(opts.runtimePath, this.layout.runtimeRoot);
    this.conmonPath = opts.conmonPath ?? '/usr/bin/conmon';
    this.exits = new ExitWatcher(this.layout.exitDir);
    this.log = opts.log;
  }

  async init() {
    for (const dir of [this.layout.runtimeRoot, this.layout.exitDir, this.layout.socketDir, this.layout.containersDir]) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    }
  }

  private fail(id: string, what: string, err: unknown) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/does not exist|not found/i.test(msg)) return notFound(`No such container: ${id}`);
    if (/not running|not paused|is paused|already/i.test(msg)) return conflict(`runtime ${this.name}: container ${id}: ${what}: ${msg}`);
    return systemError(`runtime ${this.name}: container ${id}: ${what}: ${msg}`, err);
  }

  private async meta(id: string): Promise<ContainerMeta> {
    try {
      return JSON.parse(await readFile(this.layout.meta(id), 'utf8')) as ContainerMeta;
    } catch (err) {
      if (isMissing(err)) throw notFound(`No such container: ${id}`);
      throw err;
    }
  }

  /** runc cannot grant more than the daemon holds: its NOFILE ceiling and bounding set, read once. */
  private hostFacts(): Promise<HostFacts> {
    this.host ??= Promise.all([hostNofileLimit(), hostBoundingCapabilities()]).then(([maxNofile, capabilities]) => ({ maxNofile, capabilities }));
    this.host.catch(() => (this.host = undefined));
    return this.host;
  }

  async version() {
    return parseVersion(await runCommand(this.opts.runtimePath, ['--version']));
  }

  async create(req: CreateRequest): Promise<void> {
    const { id } = req;
    if (!VALID_ID.test(id)) throw invalid(`runtime ${this.name}: invalid container id ${JSON.stringify(id)}`);
    // This driver's config.json: the description with dockerd's defaults, within what this host allows.
    // A privileged container gets the host's device nodes as they are now (dockerd reads them at
    // each create too: a disk plugged in since is there).
    const devices = req.container.privileged ? await listHostDevices() : undefined;
    const spec = buildOciSpec(req.container, { ...(await this.hostFacts()), ...(devices ? { devices } : {}) });
    const cgroupsPath = spec.linux.cgroupsPath;
    const meta: ContainerMeta = { bundle: req.bundle, logPath: req.logPath, tty: req.tty, openStdin: req.openStdin, cgroupsPath };
    try {
      await mkdir(this.layout.container(id), { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw conflict(`runtime ${this.name}: container ${id} already exists`);
      throw err;
    }
    let conmon: ConmonHandle | undefined;
    try {
      await mkdir(this.layout.persistDir(id), { mode: 0o700 });
      await rm(join(this.layout.exitDir, id), { force: true });
      await writeFile(join(req.bundle, 'config.json'), JSON.stringify(spec), { mode: 0o600 });
      await writeFile(this.layout.meta(id), JSON.stringify(meta));
      const args = containerArgs({
        layout: this.layout, runtimePath: this.opts.runtimePath, id, bundle: req.bundle, logPath: req.logPath,
        tty: req.tty, openStdin: req.openStdin, stdinOnce: req.stdinOnce ?? false,
      });
      conmon = startConmon(this.conmonPath, args, { cwd: req.bundle, withExecPipes: false });
      const msg = await withTimeout(conmon.nextSync(), this.opts.createTimeoutMs ?? 60000, `conmon for ${id}`);
      if (!msg || msg.data <= 0) throw new Error(await this.runtimeError(this.layout.runtimeLog(id), msg, conmon));
      this.log.debug({ container: id, pid: msg.data }, 'container created');
    } catch (err) {
      await this.cleanup(id, req.bundle, cgroupsPath);
      throw systemError(`runtime ${this.name}: container ${id}: OCI runtime create failed: ${(err as Error).message}`, err);
    } finally {
      conmon?.release();
    }
  }

  /** The runtime's own words for a failure: its JSON log first, then what conmon relayed. */
  private async runtimeError(runtimeLog: string, msg: SyncMessage | null, conmon: ConmonHandle): Promise<string> {
    return (await RuntimeCli.lastError(runtimeLog)) ?? msg?.message?.replace(/^runtime stderr:\s*/, '').trim()
      ?? (conmon.stderr() || 'conmon exited without reporting the container');
  }

  async start(id: string): Promise<{ pid: number } | void> {
    const meta = await this.meta(id);
    try {
      await this.cli.run(['start', id]);
    } catch (err) {
      const why = (await RuntimeCli.lastError(this.layout.runtimeLog(id))) ?? (err as Error).message;
      await this.cleanup(id, meta.bundle, meta.cgroupsPath);
      throw systemError(`runtime ${this.name}: container ${id}: OCI runtime start failed: ${why}`, err);
    }
    // conmon wrote the init's pid at create: no `runc state` process needed for it.
    const pid = Number((await readFile(this.layout.containerPid(id), 'utf8').catch(() => '')).trim());
    if (pid > 0) return { pid };
  }

  async state(id: string): Promise<RuntimeState> {
    const meta = await this.meta(id);
    let status: RuntimeStatus = 'stopped';
    let pid = 0;
    try {
      const s = JSON.parse(await this.cli.run(['state', id])) as { status: string; pid: number };
      status = (['created', 'running', 'paused'].includes(s.status) ? s.status : 'stopped') as RuntimeStatus;
      pid = status === 'stopped' ? 0 : s.pid;
    } catch (err) {
      if (!/does not exist|not exist|not found/i.test((err as Error).message)) throw this.fail(id, 'state', err);
    }
    const exit = await this.exitInfo(id, meta);
    if (exit) return { status: 'stopped', pid: 0, exit };
    return { status, pid, monitor: await monitorRunning(this.layout.conmonPid(id), id) };
  }

  private async exitInfo(id: string, meta: ContainerMeta): Promise<ExitInfo | undefined> {
    const record = await readExitFile(this.layout.exitDir, id);
    if (!record) return undefined;
    const oomKilled = await wasOomKilled({ persistDir: this.layout.persistDir(id), bundle: meta.bundle, cgroupsPath: meta.cgroupsPath });
    return { ...record, oomKilled };
  }

  async kill(id: string, signal: string): Promise<void> {
    await this.meta(id);
    await this.cli.run(['kill', id, signal]).catch((err) => Promise.reject(this.fail(id, `kill ${signal}`, err)));
  }

  async delete(id: string): Promise<void> {
    const meta = await this.meta(id).catch(() => undefined);
    // Nothing of it here and nothing in the runtime's root: no runtime process to spawn (every
    // start deletes first, in case a crash left a record).
    if (!meta && !(await exists(join(this.layout.runtimeRoot, id)))) return;
    await this.cleanup(id, meta?.bundle, meta?.cgroupsPath ?? await this.runtimeCgroup(id));
  }

  /** The cgroup runc recorded for a container (its state.json), for one whose meta a crash lost. */
  private async runtimeCgroup(id: string): Promise<string | undefined> {
    const text = await readFile(join(this.layout.runtimeRoot, id, 'state.json'), 'utf8').catch(() => '');
    try {
      return (JSON.parse(text) as { config?: { cgroups?: { path?: string } } }).config?.cgroups?.path || undefined;
    } catch {
      return undefined;
    }
  }

  /** Daemon start: every container of this runtime root that Berth does not keep goes, created
   * ones a crash left included (a live `runc init` waiting for a start that never comes). */
  async prune(keep: ReadonlySet<string>): Promise<string[]> {
    const gone: string[] = [];
    for (const id of await this.list()) {
      if (keep.has(id) || !VALID_ID.test(id)) continue;
      this.log.warn({ container: id }, 'removing a runtime container no running container owns');
      await this.delete(id).then(() => gone.push(id), (err) => this.log.warn({ err, container: id }, 'cannot remove runtime container'));
    }
    return gone;
  }

  /** Removes every trace of a container: the runtime's record, its monitor and their files. */
  private async cleanup(id: string, bundle: string | undefined, cgroupsPath: string | undefined) {
    await this.cli.run(['delete', '--force', id]).catch(() => undefined);
    await stopMonitor(this.layout.conmonPid(id), id);
    await rm(this.layout.container(id), { recursive: true, force: true });
    await rm(join(this.layout.exitDir, id), { force: true });
    await rm(join(this.layout.socketDir, id), { force: true });
    if (bundle) for (const f of CONMON_BUNDLE_FILES) await rm(join(bundle, f), { force: true });
    if (cgroupsPath) await removeCgroup(cgroupsPath);
  }

  async pause(id: string): Promise<void> {
    await this.meta(id);
    await this.cli.run(['pause', id]).catch((err) => Promise.reject(this.fail(id, 'pause', err)));
  }

  async resume(id: string): Promise<void> {
    await this.meta(id);
    await this.cli.run(['resume', id]).catch((err) => Promise.reject(this.fail(id, 'resume', err)));
  }

  async attach(id: string) {
    const meta = await this.meta(id);
    try {
      return await connectAttach(meta.bundle, { stdin: meta.openStdin });
    } catch (err) {
      throw this.fail(id, 'attach', err);
    }
  }

  async exec(id: string, req: ExecRequest) {
    const meta = await this.meta(id);
    if (!VALID_ID.test(req.execId)) throw invalid(`runtime ${this.name}: invalid exec id ${JSON.stringify(req.execId)}`);
    const dir = this.layout.exec(id, req.execId);
    await mkdir(join(dir, 'exits'), { recursive: true, mode: 0o700 });
    const spec = JSON.parse(await readFile(join(meta.bundle, 'config.json'), 'utf8')) as { process: Record<string, unknown> };
    // The exec inherits the container's confinement (capabilities, rlimits, no-new-privileges).
    const proc: Record<string, unknown> = {
      ...spec.process, terminal: req.tty, args: req.args, env: req.env, cwd: req.cwd || '/',
      user: { uid: req.user.uid, gid: req.user.gid, ...(req.user.additionalGids?.length ? { additionalGids: req.user.additionalGids } : {}) },
    };
    // docker exec --privileged: every capability, in a privileged container or not (moby's
    // execSetPlatformOpt), as far as this host allows: runc cannot apply one outside the
    // daemon's bounding set ("unable to apply caps").
    if (req.privileged) {
      const all = (await this.hostFacts()).capabilities;
      proc.capabilities = { bounding: all, effective: all, permitted: all };
    }
    delete proc.consoleSize;
    await writeFile(join(dir, 'process.json'), JSON.stringify(proc), { mode: 0o600 });

    const conmon = startConmon(this.conmonPath, execArgs({ layout: this.layout, runtimePath: this.opts.runtimePath, id, execId: req.execId, tty: req.tty, openStdin: req.openStdin }), { cwd: dir, withExecPipes: true });
    const failed = async (what: string, msg: SyncMessage | null) => {
      const why = await this.runtimeError(join(dir, 'runtime.log'), msg ?? (await conmon.nextSync().catch(() => null)), conmon);
      conmon.release();
      await rm(join(this.layout.socketDir, req.execId), { force: true });
      return systemError(`runtime ${this.name}: container ${id}: exec ${req.execId}: ${what}: ${why}`);
    };
    // Start pipe, twice: once to let conmon fork, once (after we attached) to let the runtime exec.
    conmon.signalStart();
    const ready = await withTimeout(conmon.nextAttach(), 30000, `conmon for exec ${req.execId}`).catch(() => null);
    if (!ready || ready.data < 0) throw await failed('OCI runtime exec failed', ready);
    let stdio;
    try {
      stdio = await connectAttach(dir, { stdin: req.openStdin });
    } catch (err) {
      throw await failed('attach', { data: -1, message: (err as Error).message });
    }
    conmon.signalStart();
    const started = await withTimeout(conmon.nextSync(), 30000, `exec ${req.execId}`).catch(() => null);
    if (!started || started.data <= 0) {
      stdio.close();
      throw await failed('OCI runtime exec failed', started);
    }
    const exited = (async (): Promise<ExitInfo> => {
      const done = await conmon.nextSync();
      conmon.release();
      const record = await readExitFile(join(dir, 'exits'), id);
      const exitCode = done && done.data >= 0 ? done.data : record?.exitCode ?? -1;
      return { exitCode, finishedAt: record?.finishedAt ?? rfc3339Nano(BigInt(Date.now()) * 1000000n), oomKilled: false };
    })();
    return { stdio, exited, pid: started.data };
  }

  async resize(id: string, execId: string | undefined, height: number, width: number): Promise<void> {
    const meta = await this.meta(id);
    if (execId !== undefined && !VALID_ID.test(execId)) throw invalid(`runtime ${this.name}: invalid exec id ${JSON.stringify(execId)}`);
    // Without a terminal there is nothing to size (containerd's shim answers the same way).
    if (execId === undefined && !meta.tty) return;
    const what = execId === undefined ? `container ${id}` : `container ${id}: exec ${execId}`;
    try {
      await writeTerminalSize(execId === undefined ? meta.bundle : this.layout.exec(id, execId), height, width);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // No FIFO, or no conmon reading it: the process has ended.
      if (code === 'ENOENT' || code === 'ENXIO') throw conflict(`runtime ${this.name}: ${what}: resize: not running`);
      throw systemError(`runtime ${this.name}: ${what}: resize: ${(err as Error).message}`, err);
    }
  }

  async waitExit(id: string): Promise<ExitInfo> {
    const meta = await this.meta(id);
    const record = await this.exits.wait(id);
    const oomKilled = await wasOomKilled({ persistDir: this.layout.persistDir(id), bundle: meta.bundle, cgroupsPath: meta.cgroupsPath });
    return { ...record, oomKilled };
  }

  async list(): Promise<string[]> {
    const ids = new Set<string>();
    for (const id of await readdir(this.layout.containersDir).catch(() => [] as string[])) ids.add(id);
    const listed = await this.cli.run(['list', '--format', 'json']).catch(() => 'null');
    for (const c of (JSON.parse(listed || 'null') as { id: string }[] | null) ?? []) ids.add(c.id);
    return [...ids].sort();
  }

  readLogs(logPath: string, opts?: LogReadOptions) {
    return readLogs(logPath, opts);
  }

  async rotateLog(id: string, maxFiles: number): Promise<void> {
    const meta = await this.meta(id);
    if (!meta.logPath) return;
    await rotateLogFiles(meta.logPath, maxFiles, () => reopenConmonLog(meta.bundle));
  }

  async update(id: string, resources: LinuxResources): Promise<void> {
    const meta = await this.meta(id);
    await updateResources(this.cli, this.layout, id, meta, resources).catch((err) => Promise.reject(this.fail(id, 'update', err)));
  }

  async stats(id: string) {
    return containerStats(this.layout, id, await this.meta(id));
  }

  async pids(id: string) {
    return containerPids(id, await this.meta(id));
  }
}
