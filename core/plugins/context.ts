// What a plugin receives in init(ctx): its validated config, a logger, the engine, tap-only hooks,
// and typed services from the plugins it requires.
import type { Logger } from 'pino';
import type { Engine } from '../engine.js';
import * as errors from '../errors.js';
import type { HandlerSpec } from '../handler.js';
import type { HookFacades } from '../hooks.js';
import type { Job, JobOptions } from '../job.js';
import type { PluginManifest } from './manifest.js';
import type { PluginSource } from './discover.js';
import type { DriversFacade } from './drivers.js';
import type { PluginFs, PluginSchema, PluginSemver } from './tools.js';

export interface PluginStatus {
  name: string;
  version: string;
  kind: string;
  provides: string[];
  requires: string[];
  source: PluginSource;
  dir: string;
  status: 'ok' | 'skipped';
  reason?: string;
  initMs: number;
}

/** Facts about the running daemon that plugins may read. */
export interface DaemonInfo {
  id: string;
  version: string;
  commit: string;
  dataRoot: string;
  execRoot: string;
  debug: () => boolean;
  startedAt: Date;
  /** Resolves once every plugin is initialised and state is restored (the ready hook ran). */
  whenReady: () => Promise<void>;
  isReady: () => boolean;
  plugins: () => PluginStatus[];
  /** Names the driver in use for the start line ("graphdriver", "execdriver"), once chosen. */
  describe: (key: 'graphdriver' | 'execdriver', value: string) => void;
}

export interface EngineFacade {
  register<P, R>(name: string, spec: HandlerSpec<P, R>): void;
  wrap(name: string, wrapper: (previous: HandlerSpec) => HandlerSpec): void;
  setCatchAll(spec: HandlerSpec): void;
  job<P = unknown, R = unknown>(name: string, payload?: P, opts?: JobOptions): Job<P, R>;
  run<R = unknown, P = unknown>(name: string, payload?: P, opts?: JobOptions): Promise<R>;
  has(name: string): boolean;
}

export interface PluginContext {
  name: string;
  manifest: PluginManifest;
  config: Readonly<Record<string, unknown>>;
  log: Logger;
  daemon: DaemonInfo;
  engine: EngineFacade;
  hooks: HookFacades;
  /** This plugin's own folder for persistent state: <data-root>/plugins/<name>. */
  stateDir: string;
  services: {
    /** Publishes a service named in the manifest's provides. */
    provide<T>(name: string, impl: T): void;
    /** A service named in the manifest's requires (or provided by this plugin). */
    get<T>(name: string): T;
  };
  /** Driver kinds: an owner declares a kind with its interface version; drivers register by kind. */
  drivers: DriversFacade;
  /** Coded errors that the API maps to dockerd's status codes. */
  errors: typeof errors;
  /** Atomic, durable file writes for state. */
  fs: PluginFs;
  /** The daemon's JSON Schema validator. */
  schema: PluginSchema;
  /** semver functions (satisfies, valid, validRange, coerce, lt). */
  semver: PluginSemver;
}

export interface PluginModule {
  init?: (ctx: PluginContext) => unknown;
  default?: { init: (ctx: PluginContext) => unknown };
}

/** Identity helper that gives a plugin's entry its types. */
export function definePlugin(def: { init: (ctx: PluginContext) => unknown }) {
  return def;
}

export class ServiceRegistry {
  private readonly services = new Map<string, unknown>();

  facade(manifest: PluginManifest): PluginContext['services'] {
    const who = manifest.name;
    return {
      provide: <T>(name: string, impl: T) => {
        if (!Object.hasOwn(manifest.provides, name)) {
          throw errors.pluginError(who, `provides: service "${name}" is not declared in the manifest`);
        }
        // The manifest's version is what the loader checked requirers against: the code must agree.
        const own = (impl as { serviceVersion?: unknown } | null)?.serviceVersion;
        if (typeof own === 'string' && own !== manifest.provides[name]) {
          throw errors.pluginError(who, `provides: service "${name}" is version ${own} in the code but ${manifest.provides[name]} in the manifest`);
        }
        this.services.set(name, impl);
      },
      get: <T>(name: string): T => {
        if (!Object.hasOwn(manifest.requires, name) && !Object.hasOwn(manifest.provides, name)) {
          throw errors.pluginError(who, `requires: service "${name}" is used but not declared in the manifest`);
        }
        if (!this.services.has(name)) throw errors.pluginError(who, `service "${name}" is not available (its provider was skipped or has not published it)`);
        return this.services.get(name) as T;
      },
    };
  }
}

export function engineFacade(engine: Engine, plugin: string): EngineFacade {
  return {
    register: (name, spec) => engine.register(name, spec, plugin),
    wrap: (name, wrapper) => engine.wrap(name, wrapper, plugin),
    setCatchAll: (spec) => engine.setCatchAll(spec, plugin),
    job: (name, payload, opts) => engine.job(name, payload, opts),
    run: (name, payload, opts) => engine.run(name, payload, opts),
    has: (name) => engine.has(name),
  };
}
