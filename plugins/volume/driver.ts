// The volume-driver interface: the contract a volume driver implements (the built-in `local`
// driver, drivers in-process from third parties, and the adapter for Docker's out-of-process
// volume plugins). It mirrors dockerd's volume.Driver / volume.Volume pair.
// Interface version VOLUME_DRIVER_API (semver): additions bump the minor, changes the major.
import type { Logger } from 'pino';

export const VOLUME_DRIVER_API = '1.0.0';

/** What a driver knows of one volume. */
export interface VolumeInfo {
  name: string;
  /** Where the volume's data is on the host once mounted ("" when the driver cannot say before a mount). */
  mountpoint: string;
  /** RFC 3339, as docker volume inspect shows CreatedAt; absent when the driver does not know. */
  createdAt?: string;
  /** Driver-specific status (docker volume inspect "Status"); absent or null when none. */
  status?: Record<string, unknown> | null;
}

export interface VolumeDriverCapabilities {
  /** "local" (volumes live on this host) or "global" (the same volume everywhere), as dockerd. */
  scope: 'local' | 'global';
}

/**
 * Errors: throw the core's coded errors (ctx.errors): invalid(...) for options the driver refuses
 * (answered as 400 with the message as is), notFound for a missing volume, conflict for a busy one;
 * anything else is answered as 500 naming the driver.
 */
export interface VolumeDriver {
  readonly name: string;
  capabilities(): Promise<VolumeDriverCapabilities>;
  /** Creates volume `name` with driver options (docker volume create --opt); validates them first. */
  create(name: string, opts: Record<string, string>): Promise<VolumeInfo>;
  /** Removes the volume and its data. The volumes service checks it is unused first. */
  remove(name: string): Promise<void>;
  /** One volume, or null when the driver has none of that name. */
  get(name: string): Promise<VolumeInfo | null>;
  list(): Promise<VolumeInfo[]>;
  /**
   * Makes the volume available for user `ref` (a container id) and returns the host path to bind.
   * Reference counted by ref: the first mount does the work (e.g. a tmpfs mount), later ones reuse it.
   */
  mount(name: string, ref: string): Promise<string>;
  /** Releases what mount(name, ref) took; the last release undoes the mount. */
  unmount(name: string, ref: string): Promise<void>;
  /** The host path of a mounted volume ("" when not mounted and the driver cannot say). */
  path(name: string): Promise<string>;
  /** Since 1.0.0, optional: bytes used by the volume's data, for docker system df (-1 when unknown). */
  size?(name: string): Promise<number>;
  /** Daemon shutdown: release what the driver holds (it keeps mounts that running containers use). */
  cleanup(): Promise<void>;
}

/** What a volume-driver plugin registers: ctx.drivers.register('volume', registration). */
export interface VolumeDriverRegistration {
  name: string;
  /** The VOLUME_DRIVER_API version the driver was written for: same major, no newer minor. */
  api: string;
  /** Opens the driver on its own root folder (<data-root>/volumes for `local`). */
  open(opts: { root: string; log: Logger }): Promise<VolumeDriver>;
}
