// The exec plugin: exec drivers register runtimes here; each is opened on first use.
import { join } from 'node:path';
import { definePlugin } from '../../core/plugin-api.js';
import { EXEC_DRIVER_API, type ExecDriver, type RuntimeRegistration } from './driver.js';

export type { ExecDriver, RuntimeRegistration } from './driver.js';
export { EXEC_DRIVER_API } from './driver.js';
export { type BlkioEntry, type ContainerResources, type ContainerSpec, type ContainerStats, type CreateRequest, type ExecRequest, type ExitInfo, type LinuxResources, type LogEntry, type LogReadOptions, type MountSpec, type ProcessSpec, type ProcessUser, type RuntimeState, type RuntimeStatus, type StdioHandle } from './driver.js';

/** The `runtimes` service (interface version 1.0.0). */
export interface RuntimesService {
  /** Kept for drivers written before ctx.drivers: the same as ctx.drivers.register('exec', reg),
   * with api 1.0.0 when the registration names none. */
  register(reg: Omit<RuntimeRegistration, 'api'> & { api?: string }): void;
  /** Runtimes configured in daemon.json ("runtimes": {"name": {"path": ...}}), for drivers to register. */
  configured(): Record<string, { path: string; runtimeArgs?: string[] }>;
  names(): string[];
  /** Each runtime with its binary, as /info's Runtimes shows them. */
  /** With API 1.44's `status`: facts about the runtime as key/value strings. */
  describe(): Record<string, { path: string; status: Record<string, string> }>;
  defaultName(): string;
  /** The driver for a runtime, opened on first use. */
  get(name?: string): Promise<ExecDriver>;
}

export default definePlugin({
  init(ctx) {
    ctx.drivers.declareKind('exec', { version: EXEC_DRIVER_API });
    const regs = () => ctx.drivers.list<RuntimeRegistration>('exec');
    const opened = new Map<string, Promise<ExecDriver>>();
    const defaultName = ctx.config['default-runtime'] as string;
    ctx.services.provide<RuntimesService>('runtimes', {
      register: (reg) => ctx.drivers.register<RuntimeRegistration>('exec', { ...reg, api: reg.api ?? '1.0.0' }),
      configured: () => ctx.config.runtimes as Record<string, { path: string; runtimeArgs?: string[] }>,
      names: () => regs().map((r) => r.name).sort(),
      describe: () => Object.fromEntries(regs().map((r) => [r.name, { path: r.path ?? r.name, status: { 'berth.exec-driver-api': r.api ?? '1.0.0', 'berth.default': String(r.name === defaultName) } }])),
      defaultName: () => defaultName,
      get(name = defaultName) {
        let driver = opened.get(name);
        if (!driver) {
          const reg = ctx.drivers.get<RuntimeRegistration>('exec', name);
          if (!reg) return Promise.reject(ctx.errors.invalid(`unknown or invalid runtime name: ${name}`));
          driver = reg.open({ stateDir: join(ctx.daemon.execRoot, 'runtimes', name), log: ctx.log.child({ runtime: name }), options: {} });
          opened.set(name, driver);
          driver.catch(() => opened.delete(name));
        }
        return driver;
      },
    });
    ctx.hooks.ready.tap('check-default-runtime', () => {
      if (!ctx.drivers.get('exec', defaultName)) {
        throw ctx.errors.configError(`plugin exec: default-runtime: no runtime named "${defaultName}" is registered (registered: ${regs().map((r) => r.name).join(', ') || 'none'})`);
      }
      ctx.daemon.describe('execdriver', defaultName);
    });
  },
});
