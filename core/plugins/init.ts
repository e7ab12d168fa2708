// Loads each plugin's code, in dependency order, and calls its init under a timeout.
// Its configuration was validated before this point: no plugin code runs on bad config.
import { mkdirSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { importEntry } from './import-entry.js';
import type { Logger } from 'pino';
import { coerceVersion, olderThan } from '../semver.js';
import type { Engine } from '../engine.js';
import * as errors from '../errors.js';
import { hookFacades, type CoreHooks } from '../hooks.js';
import type { PluginCandidate } from './discover.js';
import { engineFacade, ServiceRegistry, type DaemonInfo, type PluginModule, type PluginStatus } from './context.js';
import { DriverRegistry } from './drivers.js';
import { pluginFs, pluginSchema, pluginSemver } from './tools.js';

const INIT_TIMEOUT_MS = 10_000;

/** Refuses a plugin that needs a newer kernel than the one running. */
export function checkKernel(c: PluginCandidate, running = release()): void {
  const need = c.manifest.kernel;
  if (!need) return;
  const have = coerceVersion(running);
  if (have && olderThan(have, coerceVersion(need)!)) {
    throw errors.pluginError(c.manifest.name, `kernel: requires Linux kernel >= ${need}, running ${running}`);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export async function initPlugins(opts: {
  ordered: PluginCandidate[];
  sections: Map<string, Readonly<Record<string, unknown>>>;
  engine: Engine;
  hooks: CoreHooks;
  daemon: DaemonInfo;
  log: Logger;
  statuses: PluginStatus[];
}): Promise<void> {
  const services = new ServiceRegistry();
  const drivers = new DriverRegistry();
  const skipped = new Set<string>();
  for (const c of opts.ordered) {
    const m = c.manifest;
    const status: PluginStatus = {
      name: m.name, version: m.version, kind: m.kind, provides: Object.keys(m.provides), requires: Object.keys(m.requires),
      source: c.source, dir: c.dir, status: 'ok', initMs: 0,
    };
    const log = opts.log.child({ plugin: m.name });
    const missing = Object.keys(m.requires).find((svc) => skipped.has(svc));
    if (missing) {
      status.status = 'skipped';
      status.reason = `requires ${missing}, which was skipped`;
    } else {
      const started = performance.now();
      try {
        // Imported in order, not all at once: the API listens as soon as its plugin is up, before
        // later plugins' modules are compiled.
        const mod = (await importEntry(join(c.dir, m.main))) as PluginModule;
        const init = mod.init ?? mod.default?.init;
        if (typeof init !== 'function') throw new Error(`entry ${m.main} exports no init function`);
        const stateDir = join(opts.daemon.dataRoot, 'plugins', m.name);
        mkdirSync(stateDir, { recursive: true, mode: 0o700 }); // one system call: not worth a round trip
        drivers.initialising = m.name;
        await withTimeout(Promise.resolve(init({
          name: m.name,
          manifest: m,
          config: opts.sections.get(m.name) ?? {},
          log,
          daemon: opts.daemon,
          engine: engineFacade(opts.engine, m.name),
          hooks: hookFacades(opts.hooks, m.name),
          stateDir,
          services: services.facade(m),
          drivers: drivers.facade(m.name),
          errors,
          fs: pluginFs,
          schema: pluginSchema,
          semver: pluginSemver,
        })), INIT_TIMEOUT_MS, 'init');
      } catch (err) {
        if (!(err instanceof errors.SkipPluginError)) {
          throw err instanceof errors.BerthError && err.code === 'E_PLUGIN'
            ? err
            : errors.pluginError(m.name, `init failed: ${errors.messageOf(err)}`);
        }
        status.status = 'skipped';
        status.reason = err.message;
        drivers.forget(m.name);
      } finally {
        drivers.initialising = undefined;
      }
      status.initMs = Math.round((performance.now() - started) * 10) / 10;
    }
    if (status.status === 'skipped') {
      for (const svc of [m.name, ...Object.keys(m.provides)]) skipped.add(svc);
      log.info({ reason: status.reason }, 'plugin skipped');
    } else {
      log.debug({ ms: status.initMs }, 'plugin ready');
    }
    opts.statuses.push(status);
    // A turn of the event loop between plugins: once the API listens, /_ping (and a client's
    // first connection) is served between inits, not after the last of them.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
