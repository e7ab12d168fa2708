// Registers runc (and every runtime configured in daemon.json's "runtimes", which share runc's
// command line, such as crun) as exec drivers.
import type { PluginContext } from '../../core/plugins/context.js';
import type { RuntimeRegistration, RuntimesService } from '../exec/index.js';
import { createRuncDriver } from './runc-driver.js';

const RUNC = '/usr/sbin/runc';

export function registerRuntimes(ctx: PluginContext): void {
  const runtimes = ctx.services.get<RuntimesService>('runtimes');
  const paths: Record<string, string> = { runc: RUNC };
  for (const [name, r] of Object.entries(runtimes.configured())) paths[name] = r.path;
  for (const [name, runtimePath] of Object.entries(paths)) {
    ctx.drivers.register<RuntimeRegistration>('exec', { name, api: '1.4.0', path: runtimePath, open: ({ stateDir, log }) => createRuncDriver({ runtimePath, name, stateDir, log }) });
  }
}
