// Loading a driver plugin folder as the daemon would, for the conformance suites (graph, exec,
// network): its manifest checked, its config validated, its init run with a stand-in context whose
// driver registry is the core's own, so a driver's interface version is checked exactly as at start.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import * as errors from '../../core/errors.js';
import type { PluginContext } from '../../core/plugins/context.js';
import { DriverRegistry, type DriverRegistrationBase, type DriversFacade } from '../../core/plugins/drivers.js';
import { pluginFs, pluginSchema, pluginSemver } from '../../core/plugins/tools.js';
import { validate, type JsonSchema } from '../../core/schema.js';

/** A driver kind as its owner declares it, and the owner's service a driver plugin requires. */
export interface DriverKindSpec {
  /** The manifest's `kind` a driver plugin of this kind has (graphdriver, execdriver …). */
  pluginKind: string;
  /** The driver kind in the registry (graph, exec, network …) and its interface version. */
  kind: string;
  version: string;
  /** The owner's service (graph, runtimes, networks) and what the stand-in offers of it. */
  service: string;
  serviceImpl: (owner: DriversFacade) => unknown;
  onRegister?: (entry: { name: string; registration: unknown }) => void;
}

/** Where a loaded driver keeps its state: the plugin's stateDir, the daemon's roots. */
export interface DriverHome { dataRoot: string; execRoot: string; stateDir: string }

export interface LoadedDriverPlugin<R extends DriverRegistrationBase> {
  manifest: { name: string; kind: string };
  registrations: R[];
}

export async function loadDriverPlugin<R extends DriverRegistrationBase>(
  dir: string, spec: DriverKindSpec, opts: { config?: Record<string, unknown>; home?: DriverHome } = {},
): Promise<LoadedDriverPlugin<R>> {
  const manifest = JSON.parse(await readFile(join(dir, 'plugin.json'), 'utf8')) as {
    name: string; kind: string; main?: string; requires?: string[] | Record<string, string>; config?: JsonSchema;
  };
  assert.equal(manifest.kind, spec.pluginKind, `${dir}/plugin.json: kind must be "${spec.pluginKind}"`);
  const requires = manifest.requires ?? [];
  assert.ok(Array.isArray(requires) ? requires.includes(spec.service) : Object.hasOwn(requires, spec.service), `${dir}/plugin.json: requires must list "${spec.service}"`);
  const config = structuredClone(opts.config ?? {});
  if (manifest.config) assert.deepEqual(validate(manifest.config, config, 'config'), [], `${dir}: the suite's config for the plugin is invalid`);
  const mod = (await import(pathToFileURL(join(dir, manifest.main ?? 'index.js')).href)) as {
    init?: (ctx: PluginContext) => unknown; default?: { init: (ctx: PluginContext) => unknown };
  };
  const init = mod.default?.init ?? mod.init;
  assert.ok(init, `${dir}: the entry module exports no init`);
  const registry = new DriverRegistry();
  const owner = registry.facade(`${spec.kind}-owner`);
  owner.declareKind(spec.kind, { version: spec.version, ...(spec.onRegister ? { onRegister: spec.onRegister } : {}) });
  const home = opts.home ?? { dataRoot: join(tmpdir(), 'unused-data'), execRoot: join(tmpdir(), 'unused-exec'), stateDir: join(tmpdir(), 'unused-state') };
  const service = spec.serviceImpl(owner);
  const noHook = new Proxy({}, { get: () => ({ tap() {}, tapPromise() {}, tapAsync() {} }) });
  const ctx = {
    name: manifest.name, manifest, config: Object.freeze(config), log: pino({ level: process.env.BERTH_TEST_LOG ?? 'silent' }), errors,
    hooks: noHook, stateDir: home.stateDir,
    daemon: {
      id: 'conformance', version: '0.0.0', commit: '', dataRoot: home.dataRoot, execRoot: home.execRoot, startedAt: new Date(),
      debug: () => false, whenReady: async () => {}, isReady: () => true, plugins: () => [], describe: () => {},
    },
    engine: new Proxy({}, { get: () => { throw new Error('conformance: the stand-in context has no engine'); } }),
    drivers: registry.facade(manifest.name),
    fs: pluginFs, schema: pluginSchema, semver: pluginSemver,
    services: {
      provide() {},
      get(name: string) {
        if (name !== spec.service) throw new Error(`conformance: the stand-in context only provides "${spec.service}", not "${name}"`);
        return service;
      },
    },
  } as unknown as PluginContext;
  // A registration through the owner's compatibility wrapper is credited to the plugin being set up.
  registry.initialising = manifest.name;
  try {
    await init(ctx);
  } finally {
    registry.initialising = undefined;
  }
  return { manifest, registrations: owner.list<R>(spec.kind) };
}
