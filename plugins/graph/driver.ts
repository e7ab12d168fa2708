// The graph-driver interface: the contract a storage driver implements, third-party ones included.
// Interface version GRAPH_DRIVER_API (semver): additions bump the minor, changes the major.
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { JsonSchema } from '../../core/plugin-api.js';
import type { WhiteoutMode } from '../../lib/archive/index.js';

export const GRAPH_DRIVER_API = '1.3.0';

/** One path changed between a layer and its parent, as `docker diff` reports it. */
export interface Change {
  path: string; // absolute inside the layer, e.g. "/etc/passwd"
  kind: 'modify' | 'add' | 'delete';
}

export interface CreateOptions {
  /** A read-write layer for a container (on overlay: has an upper and work dir for mounting rw). */
  rw?: boolean;
  /** Driver-specific options (e.g. a size quota), validated by the driver. */
  storageOpt?: Record<string, string>;
}

export interface GraphDriver {
  readonly name: string;
  /**
   * Since 1.1.0, optional. True when layers are independent: create(id, parent) needs only that
   * `parent` was created (not filled), and applyDiff(id) never reads the parent's content, so the
   * layers of a chain can be filled concurrently. Drivers that copy the parent at create leave it unset.
   */
  readonly independentLayers?: boolean;
  /** Key/value pairs shown under "Storage Driver" in docker info (DriverStatus). */
  status(): Promise<[string, string][]>;
  /** Creates layer `id` on `parent` (null for a base layer). Read-only unless opts.rw. */
  create(id: string, parent: string | null, opts?: CreateOptions): Promise<void>;
  /** Removes a layer (it must not be mounted). Removing a missing layer is not an error. */
  remove(id: string): Promise<void>;
  /** Mounts the layer (with its parents) and returns the path of its root file system. Reference counted. */
  get(id: string): Promise<string>;
  /** Releases one reference taken by get; the last one unmounts. */
  put(id: string): Promise<void>;
  exists(id: string): Promise<boolean>;
  /**
   * Applies a layer diff (an uncompressed or gzip tar stream, Docker/OCI whiteouts) to layer `id`,
   * which was just created on `parent`. Returns the size in bytes of the content applied.
   * Nothing may be written outside the layer; a refused archive leaves the layer empty of it.
   */
  applyDiff(id: string, parent: string | null, diff: Readable): Promise<number>;
  /**
   * Since 1.2.0, optional. Where applyDiff(id, parent, tar) unpacks, for a driver whose applyDiff is
   * exactly `extractLayer(tar, dir, { whiteouts })` (plugins/graph/archive) into that folder. The
   * layer store then unpacks there itself, in a worker thread, instead of calling applyDiff.
   */
  unpackTarget?(id: string, parent: string | null): Promise<{ dir: string; whiteouts: WhiteoutMode }>;
  /** The changes of `id` against `parent` as a tar stream with Docker whiteouts (.wh.NAME, .wh..wh..opq). */
  diff(id: string, parent: string | null): Promise<Readable>;
  changes(id: string, parent: string | null): Promise<Change[]>;
  /** Size in bytes of what `id` adds over `parent`. */
  diffSize(id: string, parent: string | null): Promise<number>;
  /**
   * Since 1.3.0, optional. What docker inspect shows as GraphDriver.Data for layer `id` (overlay:
   * LowerDir, UpperDir, MergedDir, WorkDir, as dockerd's overlay2); absent or null: Data is null.
   */
  metadata?(id: string): Promise<Record<string, string> | null>;
  /** Daemon shutdown: unmount everything this driver mounted. */
  cleanup(): Promise<void>;
}

/** What a graph-driver plugin registers: ctx.drivers.register('graph', registration). */
export interface DriverRegistration {
  name: string;
  /** The GRAPH_DRIVER_API version the driver was written for: same major, no newer minor. */
  api: string;
  /** Lower is preferred when the operator chose none. */
  priority: number;
  /** JSON Schema of its --storage-opt keys (key=value pairs turned into an object). */
  optionsSchema?: JsonSchema;
  /** Can this driver work with this root (e.g. a probe overlay mount)? reason says why not, or why yes. */
  probe(root: string): Promise<{ ok: boolean; reason: string }>;
  /** Opens the driver on its own root folder, <data-root>/<name>. */
  open(opts: { root: string; options: Record<string, string>; log: Logger }): Promise<GraphDriver>;
}
