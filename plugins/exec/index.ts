// The exec plugin: exec drivers register runtimes here; each is opened on first use.
import { join } from 'node:path';
import { definePlugin } from '../../core/plugins/context.js';
import { semver } from '../../core/semver.js';
import { EXEC_DRIVER_API, type ExecDriver, type RuntimeRegistration } from './driver.js';

export type { ExecDriver, RuntimeRegistration } from './driver.js';
export { EXEC_DRIVER_API } from './driver.js';
export { type BlkioEntry, type ContainerResources, type ContainerSpec, type ContainerStats, type CreateRequest, type ExecRequest, type ExitInfo, type LinuxResources, type LogEntry, type LogReadOptions, type MountSpec, type ProcessSpec, type ProcessUser, type RuntimeState, type RuntimeStatus, type StdioHandle } from './driver.js';

/** The `runtimes` service (interface version 1.0.0). */
export interface RuntimesService {
  register(reg: RuntimeRegistration): void;
  /** Runtimes configured in daemon.json ("runtimes": {"name": {"path": ...}}), for drivers to register. */
  configured(): Record<string, { path: string; runtimeArgs?: string[] }>;
  names(): string[];
  /** Each runtime with its binary, as /info's Runtimes shows them. */
  describe(): Record<string, { path: string }>;
  defaultName(): string;
  /** The driver for a runtime, opened on first use. */
  get(name?: string): Promise<ExecDriver>;
}

export default definePlugin({
  init(ctx) {
    const regs = new Map<string, RuntimeRegistration>();
    const opened = new Map<string, Promise<ExecDriver>>();
    const defaultName = ctx.config['default-runtime'] as string;
    ctx.services.provide<RuntimesService>('runtimes', {
      register(reg) {
        // A driver written for another major misreads the CreateRequest (1.x expected an OCI spec);
        // the loader names the registering plugin (its init failed).
        const major = semver.coerce(EXEC_DRIVER_API)!.major;
        if (!semver.valid(reg.apiVersion) || semver.coerce(reg.apiVersion)!.major !== major || semver.lt(EXEC_DRIVER_API, reg.apiVersion)) {
          throw ctx.errors.invalid(`runtime ${reg.name}: exec driver API ${String(reg.apiVersion)} is not compatible with ${EXEC_DRIVER_API}`);
        }
        if (regs.has(reg.name)) throw ctx.errors.conflict(`runtime ${reg.name} is already registered`);
        regs.set(reg.name, reg);
      },
      configured: () => ctx.config.runtimes as Record<string, { path: string; runtimeArgs?: string[] }>,
      names: () => [...regs.keys()].sort(),
      describe: () => Object.fromEntries([...regs.values()].map((r) => [r.name, { path: r.path ?? r.name }])),
      defaultName: () => defaultName,
      get(name = defaultName) {
        let driver = opened.get(name);
        if (!driver) {
          const reg = regs.get(name);
          if (!reg) return Promise.reject(ctx.errors.invalid(`unknown or invalid runtime name: ${name}`));
          driver = reg.open({ stateDir: join(ctx.daemon.execRoot, 'runtimes', name), log: ctx.log.child({ runtime: name }), options: {} });
          opened.set(name, driver);
          driver.catch(() => opened.delete(name));
        }
        return driver;
      },
    });
    ctx.hooks.ready.tap('check-default-runtime', () => {
      if (!regs.has(defaultName)) {
        throw ctx.errors.configError(`plugin exec: default-runtime: no runtime named "${defaultName}" is registered (registered: ${[...regs.keys()].join(', ') || 'none'})`);
      }
      ctx.daemon.describe('execdriver', defaultName);
    });
  },
});
