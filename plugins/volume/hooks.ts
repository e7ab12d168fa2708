// Every extension point of the volumes service, declared in one place. Other plugins tap them
// through the service (`volumes.hooks`); only the volumes service calls them.
import { AsyncSeriesBailHook, SyncWaterfallHook } from 'tapable';
import type { VolumeDriver } from './driver.js';

export function createVolumeHooks() {
  return Object.freeze({
    /**
     * A driver name no registered driver answers to (e.g. a Docker volume plugin found on demand
     * as NAME.sock / NAME.spec / NAME.json): return its driver, or undefined to pass. Nobody
     * answering gives dockerd's 404 for an unknown driver.
     */
    resolveDriver: new AsyncSeriesBailHook<[string], VolumeDriver | undefined>(['name']),
    /** The volume-driver names docker info lists under Plugins.Volume: return the list with yours added. */
    driverNames: new SyncWaterfallHook<[string[]]>(['names']),
  });
}

export type VolumeHooks = ReturnType<typeof createVolumeHooks>;
