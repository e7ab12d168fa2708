// Every extension point of the containers service, declared in one place (as webpack declares a
// compiler's hooks). Other plugins tap them through the service (`containers.hooks`); only the
// container store calls them. The network and volume plugins follow containers here.
import { AsyncParallelHook, AsyncSeriesHook, SyncBailHook, SyncHook, SyncWaterfallHook } from 'tapable';
import type { ContainerSpec } from '../exec/index.js';
import type { Container } from './records/index.js';

/** A create request as the API received it (the record keeps no NetworkingConfig). */
export type CreateRequest = Record<string, unknown> & {
  Image?: string;
  HostConfig?: Record<string, unknown>;
  NetworkingConfig?: { EndpointsConfig?: Record<string, unknown> | null } | null;
};

export interface StartingContext {
  container: Container;
  /** The container's own folder: a plugin may keep files for this run here (hosts, resolv.conf). */
  dir: string;
  /** The runtime-neutral description being built: taps add namespaces, mounts and files to it. */
  spec: ContainerSpec;
}

export interface RemovedContext {
  removeVolumes: boolean;
}

export function createContainerHooks() {
  return Object.freeze({
    /** Before anything is created: throw a coded error to refuse what you cannot honour. */
    creating: new AsyncSeriesHook<[CreateRequest]>(['request']),
    /** The record is on disk (its name and ID known); a failing tap fails the create job. */
    created: new AsyncSeriesHook<[Container, CreateRequest]>(['container', 'request']),
    /** Before the runtime creates the container: add to its description (namespaces, mounts). */
    starting: new AsyncSeriesHook<[StartingContext]>(['context']),
    /** Its process runs. */
    started: new SyncHook<[Container]>(['container']),
    /** Its process stopped, or its start failed: release what you hold for this run. */
    stopped: new AsyncSeriesHook<[Container]>(['container']),
    /** The record is gone (docker rm, prune, --rm); removeVolumes: docker rm -v or --rm (its anonymous volumes go too). */
    removed: new AsyncSeriesHook<[Container, RemovedContext]>(['container', 'context']),
    /** Renamed: the record already carries the new name. */
    renamed: new AsyncSeriesHook<[Container, string]>(['container', 'oldName']),
    /** What docker inspect shows: return the view with your part added. */
    inspect: new SyncWaterfallHook<[Record<string, unknown>, Container]>(['view', 'container']),
    /** A row of docker ps: return it with your part added. */
    summary: new SyncWaterfallHook<[Record<string, unknown>, Container]>(['row', 'container']),
    /** List filters only you know (ps --filter network=…): return false to leave the container out. */
    listFilter: new SyncBailHook<[Container, Record<string, string[]>], false | undefined>(['container', 'filters']),
    /** The daemon stops, after its containers stopped (or were left running with live restore). */
    shutdown: new AsyncParallelHook<[{ liveRestore: boolean }]>(['context']),
  });
}

export type ContainerHooks = ReturnType<typeof createContainerHooks>;
