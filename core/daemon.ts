// The daemon's life cycle: data root, pid file, plugins, readiness, signals, reload, shutdown.
import { isDeepStrictEqual } from 'node:util';
import { chmodSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { LoadedConfig } from './config/load-config.js';
import { reloadConfiguration } from './config/load-config.js';
import { Engine, NO_PAYLOAD } from './engine.js';
import { createCoreHooks, isolateTaps } from './hooks.js';
import { createLogger } from './log.js';
import { loadDaemonId } from './lifecycle/daemon-id.js';
import { sdNotify } from './lifecycle/notify.js';
import { claimPidFile, releasePidFile } from './lifecycle/pidfile.js';
import type { DaemonInfo, PluginStatus } from './plugins/context.js';
import { checkKernel, initPlugins } from './plugins/init.js';
import { BERTH_COMMIT, BERTH_VERSION } from './version.js';

export interface ReloadResult {
  changed: Record<string, unknown>;
  ignored: string[];
}

export class Daemon {
  readonly hooks = createCoreHooks();
  readonly log: Logger;
  readonly engine: Engine;
  readonly statuses: PluginStatus[] = [];
  private id = '';
  private ready = false;
  private markReady!: () => void;
  private readonly readyPromise = new Promise<void>((resolve) => { this.markReady = resolve; });
  private stopping: Promise<number> | undefined;
  private stopSignals = 0;
  private readonly drivers: Record<string, string> = {};

  constructor(private readonly config: LoadedConfig) {
    this.log = createLogger(config.core.logLevel);
    this.engine = new Engine(this.hooks, this.log);
    isolateTaps(this.hooks.jobRun.after, this.log, 'jobRun.after');
    isolateTaps(this.hooks.shutdown, this.log, 'shutdown');
  }

  private info(): DaemonInfo {
    const c = this.config.core;
    const daemon = this;
    return {
      // Read when used: the ID is loaded while the plugins start (see start).
      get id() { return daemon.id; },
      version: BERTH_VERSION,
      commit: BERTH_COMMIT,
      dataRoot: c.dataRoot,
      execRoot: c.execRoot,
      debug: () => this.config.core.debug || this.log.level === 'debug',
      startedAt: new Date(),
      whenReady: () => this.readyPromise,
      isReady: () => this.ready,
      plugins: () => this.statuses,
      describe: (key, value) => { this.drivers[key] = value; },
    };
  }

  async start(): Promise<void> {
    const c = this.config.core;
    // Synchronous, as the pid file's claim: a few system calls once, before the API listens.
    mkdirSync(c.dataRoot, { recursive: true, mode: 0o700 });
    chmodSync(c.dataRoot, 0o700);
    mkdirSync(c.execRoot, { recursive: true, mode: 0o700 });
    claimPidFile(c.pidfile);
    try {
      // Made (and on disk) before ready, while the plugins start: a new data root's ID is written
      // durably, two fsyncs that need not hold up the API listening. Only routes that wait for
      // ready (/info) show it.
      const idLoaded = loadDaemonId(c.dataRoot).then((id) => { this.id = id; });
      idLoaded.catch(() => {}); // awaited below; a failure must not be an unhandled rejection meanwhile
      this.engine.register('daemon.reload', {
        description: 'reloads the reloadable part of daemon.json',
        schema: NO_PAYLOAD,
        run: (job) => this.reload(job),
      });
      // Trap signals before any plugin starts: /_ping answers as soon as the API listens, and a
      // SIGTERM from then on must shut down cleanly rather than kill the process (stale pid file, socket).
      this.trapSignals();
      for (const p of this.config.plugins) checkKernel(p);
      await initPlugins({
        ordered: this.config.plugins,
        sections: this.config.resolved.sections,
        engine: this.engine,
        hooks: this.hooks,
        daemon: this.info(),
        log: this.log,
        statuses: this.statuses,
      });
      await idLoaded;
      await this.hooks.ready.promise();
      this.log.info({
        version: BERTH_VERSION, commit: BERTH_COMMIT,
        execdriver: this.drivers.execdriver ?? 'none', graphdriver: this.drivers.graphdriver ?? 'none',
      }, 'Berth daemon');
      this.ready = true;
      this.markReady();
      this.log.info('Daemon has completed initialization');
      // A signal during start-up already began the shutdown (and sent STOPPING=1): not ready then.
      if (!this.stopping) await sdNotify('READY=1', this.log);
    } catch (err) {
      // Release what the plugins that did start hold (listeners, sockets), then the pid file.
      this.engine.beginShutdown();
      await this.runShutdownHook(Math.min(c.shutdownTimeout, 5));
      await releasePidFile(c.pidfile);
      throw err;
    }
  }

  private trapSignals(): void {
    const stop = (sig: NodeJS.Signals) => {
      this.stopSignals++;
      if (this.stopSignals >= 3) {
        this.log.warn('Forcing berth daemon shutdown without cleanup; 3 interrupts received');
        process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
      }
      if (this.stopSignals === 1) {
        this.log.info({ signal: sig }, 'Processing signal');
        void this.shutdown().then((code) => process.exit(code));
      }
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    process.on('SIGHUP', () => {
      this.engine.run('daemon.reload').catch((err) =>
        this.log.error({ err: err.message }, 'configuration reload failed; the old configuration stays in force'));
    });
  }

  /** Runs the shutdown hook; returns true if it finished before the deadline. */
  private async runShutdownHook(seconds: number, signal?: AbortSignal): Promise<boolean> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), seconds * 1000);
    signal?.addEventListener('abort', () => ac.abort(), { once: true });
    const expired = new Promise<false>((resolve) => ac.signal.addEventListener('abort', () => resolve(false), { once: true }));
    try {
      if (ac.signal.aborted) return false;
      return await Promise.race([
        this.hooks.shutdown.promise({ signal: ac.signal, deadline: Date.now() + seconds * 1000 }).then(() => true),
        expired,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Graceful shutdown: refuse new jobs, drain running ones, run the shutdown hook, all under one deadline. */
  shutdown(): Promise<number> {
    this.stopping ??= (async () => {
      const c = this.config.core;
      const started = performance.now();
      this.engine.beginShutdown();
      void sdNotify('STOPPING=1', this.log);
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(), c.shutdownTimeout * 1000);
      await this.engine.drain(deadline.signal);
      const left = Math.max(0, c.shutdownTimeout - (performance.now() - started) / 1000);
      const clean = (await this.runShutdownHook(left, deadline.signal)) && !deadline.signal.aborted;
      clearTimeout(timer);
      await releasePidFile(c.pidfile);
      if (!clean) this.log.error({ timeoutSeconds: c.shutdownTimeout }, 'shutdown did not finish within the deadline');
      this.log.info({ ms: Math.round(performance.now() - started) }, 'Daemon shutdown complete');
      return clean ? 0 : 1;
    })();
    return this.stopping;
  }

  /** SIGHUP: validate the whole new file first; apply only if valid, only the reloadable keys. */
  private async reload(job: import('./job.js').Job): Promise<ReloadResult> {
    const next = await reloadConfiguration(this.config);
    const old = this.config.resolved.values;
    const changed: Record<string, unknown> = {};
    const ignored: string[] = [];
    for (const key of new Set([...Object.keys(old), ...Object.keys(next.values)])) {
      if (isDeepStrictEqual(old[key], next.values[key])) continue;
      if (this.config.reloadable.has(key)) changed[key] = next.values[key];
      else ignored.push(key);
    }
    if (ignored.length) this.log.warn({ keys: ignored }, 'these keys need a restart to change; ignored on reload');
    const previousLevel = this.log.level;
    const values = { ...old, ...changed };
    this.log.level = values.debug ? 'debug' : String(values['log-level']);
    try {
      await this.hooks.reload.promise({ changed });
    } catch (err) {
      this.log.level = previousLevel;
      throw err;
    }
    Object.assign(this.config.resolved.values, changed);
    this.config.core.debug = Boolean(values.debug);
    this.config.core.logLevel = this.log.level;
    const attributes: Record<string, string> = { name: hostname() };
    for (const [k, v] of Object.entries(changed)) attributes[k] = typeof v === 'string' ? v : JSON.stringify(v);
    job.emit({ Type: 'daemon', Action: 'reload', Actor: { ID: this.id, Attributes: attributes } });
    this.log.info({ changed: Object.keys(changed) }, 'configuration reloaded');
    return { changed, ignored };
  }
}
