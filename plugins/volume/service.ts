// The volumes service: volumes by name over every driver (registered ones, then the resolveDriver
// hook), their metadata on disk, who uses them, and the events dockerd sends for them.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { BerthError, conflict, invalid, notFound, type JobEvent } from '../../core/plugin-api.js';
import { KeyedLock } from '../../lib/keyed-lock.js';
import { labelsExcluded, labelsMatch } from '../../lib/label-filter.js';
import type { VolumeDriver, VolumeDriverRegistration, VolumeInfo } from './driver.js';
import type { VolumeHooks } from './hooks.js';
import { ANONYMOUS_LABEL, checkVolumeName } from './names.js';
import type { VolumeRecord, VolumeStore } from './volume-store.js';

/** docker volume inspect / ls: one volume as dockerd shows it. */
export interface VolumeView {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt: string;
  Status?: Record<string, unknown>;
  Labels: Record<string, string>;
  Scope: 'local' | 'global';
  Options: Record<string, string>;
  UsageData?: { Size: number; RefCount: number };
}

export interface CreateVolumeRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

export const VOLUME_LIST_FILTERS = ['dangling', 'driver', 'label', 'name'] as const;
export const VOLUME_PRUNE_FILTERS = ['label', 'label!', 'all'] as const;

const boolFilter = (key: string, values: string[] | undefined): boolean | undefined => {
  if (!values?.length) return undefined;
  const v = values[values.length - 1].toLowerCase();
  if (['true', '1'].includes(v)) return true;
  if (['false', '0'].includes(v)) return false;
  throw invalid(`invalid filter '${key}=${values[values.length - 1]}'`);
};

export class Volumes {
  private readonly opened = new Map<string, Promise<VolumeDriver>>();
  /** One create or remove at a time per name. */
  private readonly lock = new KeyedLock();
  emit: (e: JobEvent) => void = () => {};

  constructor(
    readonly store: VolumeStore,
    readonly hooks: VolumeHooks,
    private readonly registered: () => VolumeDriverRegistration[],
    private readonly rootOf: (driver: string) => string,
    private readonly log: Logger,
  ) {}

  /** A driver by name: a registered one (opened once), else whoever answers the resolveDriver hook. */
  async driver(name: string): Promise<VolumeDriver> {
    const reg = this.registered().find((r) => r.name === name);
    if (reg) {
      let d = this.opened.get(name);
      if (!d) {
        d = reg.open({ root: this.rootOf(name), log: this.log.child({ volumeDriver: name }) });
        this.opened.set(name, d);
        d.catch(() => this.opened.delete(name));
      }
      return d;
    }
    const found = await this.hooks.resolveDriver.promise(name);
    if (!found) throw notFound(`error looking up volume plugin ${name}: plugin "${name}" not found`);
    return found;
  }

  /** The names docker info lists under Plugins.Volume. */
  driverNames(): string[] {
    return this.hooks.driverNames.call(this.registered().map((r) => r.name));
  }

  async openRegistered(): Promise<void> {
    for (const r of this.registered()) {
      const d = await this.driver(r.name);
      // Volumes a driver holds without metadata (kept from before, or metadata lost) are known again.
      for (const v of await d.list().catch(() => [])) {
        if (!this.store.volumes.has(v.name)) {
          await this.store.saveVolume({ Name: v.name, Driver: r.name, Labels: {}, Options: {}, CreatedAt: rfc3339(v.createdAt) });
        }
      }
    }
  }

  private record(name: string): VolumeRecord {
    const v = this.store.volumes.get(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return v;
  }

  async view(v: VolumeRecord, info?: VolumeInfo | null): Promise<VolumeView> {
    let mountpoint = info?.mountpoint ?? '';
    let status = info?.status ?? undefined;
    let scope: 'local' | 'global' = 'local';
    if (!info) {
      const d = await this.driver(v.Driver).catch(() => undefined);
      const got = await d?.get(v.Name).catch(() => null);
      mountpoint = got?.mountpoint ?? '';
      status = got?.status ?? undefined;
      scope = (await d?.capabilities().catch(() => undefined))?.scope ?? 'local';
    }
    return {
      CreatedAt: v.CreatedAt, Driver: v.Driver, Labels: v.Labels, Mountpoint: mountpoint, Name: v.Name, Options: v.Options, Scope: scope,
      ...(status ? { Status: status } : {}),
    };
  }

  async get(name: string): Promise<VolumeView> {
    return this.view(this.record(name));
  }

  /**
   * docker volume create, and the volumes a container's mounts make. Returns the existing one when
   * asked again with the same driver. With `user`, that container counts as using the volume from
   * here on (until store.release), so a remove cannot slip in before its mount points are saved.
   */
  create(req: CreateVolumeRequest, user?: string): Promise<{ record: VolumeRecord; made: boolean }> {
    const anonymous = !req.Name;
    const name = req.Name || randomBytes(32).toString('hex');
    checkVolumeName(name);
    return this.lock.run(name, async () => {
      const wanted = req.Driver || 'local';
      const existing = this.store.volumes.get(name);
      if (existing) {
        if (req.Driver && existing.Driver !== req.Driver) throw conflict(`create ${name}: volume name must be unique`);
        // Under the volume's lock: a docker volume rm from now on sees this container as a user.
        if (user) this.store.claim(name, user);
        return { record: existing, made: false };
      }
      let driver: VolumeDriver;
      try {
        driver = await this.driver(wanted);
      } catch (err) {
        if (err instanceof BerthError) throw new BerthError(err.code, `create ${name}: ${err.message}`);
        throw err;
      }
      const opts = req.DriverOpts ?? {};
      const info = await driver.create(name, opts);
      const labels = { ...(req.Labels ?? {}), ...(anonymous ? { [ANONYMOUS_LABEL]: '' } : {}) };
      const record: VolumeRecord = {
        Name: name, Driver: wanted, Labels: labels, Options: opts, CreatedAt: rfc3339(info.createdAt), ...(anonymous ? { Anonymous: true } : {}),
      };
      try {
        await this.store.saveVolume(record);
      } catch (err) {
        await driver.remove(name).catch(() => {});
        throw err;
      }
      if (user) this.store.claim(name, user);
      this.emit(volumeEvent(name, 'create', { driver: wanted }));
      return { record, made: true };
    });
  }

  /** docker volume rm: refused while a container uses it (force only forgives a missing volume). */
  remove(name: string, force = false): Promise<void> {
    return this.lock.run(name, async () => {
      const v = this.store.volumes.get(name);
      if (!v) {
        if (force) return;
        throw notFound(`get ${name}: no such volume`);
      }
      const users = this.store.usersOf(name);
      if (users.length) throw conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
      const d = await this.driver(v.Driver);
      try {
        await d.remove(name);
      } catch (err) {
        if (!(err instanceof BerthError && err.code === 'E_NOT_FOUND')) throw err;
      }
      await this.store.deleteVolume(name);
      this.emit(volumeEvent(name, 'destroy', { driver: v.Driver }));
    });
  }

  async list(filters: Record<string, string[]>): Promise<{ Volumes: VolumeView[]; Warnings: string[] }> {
    const dangling = boolFilter('dangling', filters.dangling);
    const out: VolumeView[] = [];
    for (const v of this.store.volumes.values()) {
      if (dangling !== undefined && (this.store.usersOf(v.Name).length === 0) !== dangling) continue;
      if (filters.driver?.length && !filters.driver.includes(v.Driver)) continue;
      if (filters.name?.length && !filters.name.some((n) => v.Name.includes(n))) continue;
      if (!labelsMatch(v.Labels, filters.label ?? [])) continue;
      out.push(await this.view(v));
    }
    return { Volumes: out, Warnings: [] };
  }

  /** docker volume prune: unused volumes; only anonymous ones unless `all` (API 1.42 on). */
  async prune(filters: Record<string, string[]>, all: boolean): Promise<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }> {
    const every = all || boolFilter('all', filters.all) === true;
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of [...this.store.volumes.values()]) {
      if (this.store.usersOf(v.Name).length) continue;
      if (!every && !(ANONYMOUS_LABEL in v.Labels)) continue;
      if (!labelsMatch(v.Labels, filters.label ?? []) || labelsExcluded(v.Labels, filters['label!'] ?? [])) continue;
      const size = await this.size(v);
      try {
        await this.remove(v.Name);
      } catch (err) {
        this.log.warn({ err, volume: v.Name }, 'prune: cannot remove volume');
        continue;
      }
      deleted.push(v.Name);
      reclaimed += Math.max(size, 0);
    }
    // As dockerd (and Berth's container prune): null, not [], when nothing went.
    return { VolumesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  }

  async size(v: VolumeRecord): Promise<number> {
    const d = await this.driver(v.Driver).catch(() => undefined);
    return (await d?.size?.(v.Name).catch(() => -1)) ?? -1;
  }

  /** /system/df: every volume with its size and the number of containers using it. */
  async usage(): Promise<VolumeView[]> {
    return Promise.all([...this.store.volumes.values()].map(async (v) => ({
      ...(await this.view(v)), UsageData: { Size: await this.size(v), RefCount: this.store.usersOf(v.Name).length },
    })));
  }
}

/** As dockerd shows CreatedAt: RFC 3339 in whole seconds (now when the driver does not say). */
const rfc3339 = (at?: string) => new Date(at ?? Date.now()).toISOString().replace(/\.\d+Z$/, 'Z');

export const volumeEvent = (name: string, action: string, attributes: Record<string, string>): JobEvent => ({
  Type: 'volume', Action: action, Actor: { ID: name, Attributes: attributes },
});

export const defaultRoot = (dataRoot: string, stateDir: string) => (driver: string) =>
  (driver === 'local' ? join(dataRoot, 'volumes') : join(stateDir, 'drivers', driver));
