// The `system` service (interface version 1.0.0): hooks through which drivers and stores add
// their part to GET /info, GET /version and GET /system/df.
import { AsyncSeriesWaterfallHook } from 'tapable';

export type Info = Record<string, unknown>;
export interface VersionComponent { Name: string; Version: string; Details?: Record<string, string> }
export type VersionInfo = Record<string, unknown> & { Components: VersionComponent[] };
export interface DiskUsage {
  LayersSize: number;
  Images: unknown[];
  Containers: unknown[];
  Volumes: unknown[];
  BuildCache: unknown[];
}

export const SYSTEM_SERVICE_VERSION = '1.0.0';

export function createSystemHooks() {
  return {
    /**
     * Each tap may set fields of the /info answer (Images, Containers, Driver, Runtimes ...), and
     * add to its Warnings (with addWarnings) what an operator must know: records start-up moved
     * aside or could not restore, state not yet on disk.
     */
    info: new AsyncSeriesWaterfallHook<[Info]>(['info']),
    /** Each tap may add a component (runc, ...) to /version. */
    version: new AsyncSeriesWaterfallHook<[VersionInfo]>(['version']),
    /** Each tap may add its objects and sizes to /system/df. */
    df: new AsyncSeriesWaterfallHook<[DiskUsage]>(['usage']),
  };
}

/** The info answer with `warnings` added to its Warnings (null when there are none, as dockerd). */
export function addWarnings(info: Info, warnings: string[]): Info {
  if (!warnings.length) return info;
  const before = Array.isArray(info.Warnings) ? (info.Warnings as string[]) : [];
  return { ...info, Warnings: [...before, ...warnings] };
}

export interface SystemService {
  serviceVersion: string;
  hooks: ReturnType<typeof createSystemHooks>;
}
