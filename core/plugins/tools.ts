// The core's tools a plugin reaches through its context (ctx.fs, ctx.schema, ctx.semver): the same
// for built-in and third-party plugins, so neither needs to import the core's modules.
import { fsyncDir, writeFileAtomic, writeFilesDurably } from '../fs/atomic-write.js';
import { compileSchema, describeError, validate } from '../schema.js';
import { semver } from '../semver.js';

/** Durable writes: a crash leaves the old file or the new one, never half of one. */
export interface PluginFs {
  /** Writes a whole file atomically (temp file, fsync, rename, fsync the folder). */
  writeFileAtomic: typeof writeFileAtomic;
  /** Writes new files into a folder nobody sees yet, each fsynced, then the folder. */
  writeFilesDurably: typeof writeFilesDurably;
  fsyncDir: typeof fsyncDir;
}

/** The daemon's one JSON Schema validator (ajv; defaults applied in place). */
export interface PluginSchema {
  /** Problems as "field: what was expected", empty when valid; `root` prefixes each field. */
  validate: typeof validate;
  /** An ajv validate function, for callers that render its errors themselves. */
  compile: typeof compileSchema;
  /** One ajv error as "field: problem". */
  describeError: typeof describeError;
}

export type PluginSemver = typeof semver;

export const pluginFs: PluginFs = Object.freeze({ writeFileAtomic, writeFilesDurably, fsyncDir });
export const pluginSchema: PluginSchema = Object.freeze({ validate, compile: compileSchema, describeError });
export const pluginSemver: PluginSemver = Object.freeze({ ...semver });
