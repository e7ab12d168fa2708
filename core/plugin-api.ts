// The core's public plugin API: everything a plugin may import from the core, in one module.
// A plugin (built-in or third-party) imports from the core only this file; the tools it needs at
// run time (durable writes, JSON Schema, semver, drivers, services) come through its context.
// Its version is CORE_API_VERSION; manifests name a range of it in `coreApi`.

export { CORE_API_VERSION, PLUGIN_KINDS, type PluginKind, type PluginManifest, type ManifestFlag } from './plugins/manifest.js';

// The entry point and what init(ctx) receives.
export {
  definePlugin,
  type PluginContext, type PluginModule, type PluginStatus, type DaemonInfo, type EngineFacade,
} from './plugins/context.js';
export type {
  DriversFacade, DriverRegistrationBase, DriverEntry, DriverKindOptions, DriverKindInfo,
} from './plugins/drivers.js';
export type { PluginFs, PluginSchema, PluginSemver } from './plugins/tools.js';
export type { JsonSchema } from './schema.js';

// Jobs, handlers and hooks (types: the engine itself is reached through ctx.engine and ctx.hooks).
export type { Job, JobOrigin, JobEvent, JobOptions } from './job.js';
export type { HandlerSpec, HandlerEntry } from './handler.js';
export type { HookFacades, TapFacade, ReloadEvent, ShutdownContext } from './hooks.js';

// Coded errors (also on ctx.errors) and the skip outcome.
export {
  BerthError, type ErrorCode,
  invalid, notFound, conflict, notModified, denied, notImplemented, unavailable, systemError, configError, pluginError,
  isErrorCode, statusOf, messageOf,
  SkipPluginError,
} from './errors.js';

// The daemon's own version, for /version and /info (also ctx.daemon.version and .commit).
export { BERTH_VERSION, BERTH_COMMIT, BUILD_TIME } from './version.js';
