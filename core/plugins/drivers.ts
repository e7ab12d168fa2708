// One registry of driver kinds (graph, exec, network, volume …): the plugin that owns a kind
// declares it with the version of its driver interface; driver plugins register against it and
// are refused, naming plugin, kind, driver and both versions, when written for another interface.
import { pluginError } from '../errors.js';
import { coerceVersion, isVersion } from '../semver.js';

/** What every registration carries; each kind's owner defines the rest (factories, the driver …). */
export interface DriverRegistrationBase {
  /** The driver's name within its kind ("overlay", "runc", "bridge"), as users and config name it. */
  name: string;
  /** The version of the kind's interface this driver was written for (semver). */
  api: string;
}

/** A registration as the registry keeps it. */
export interface DriverEntry<R extends DriverRegistrationBase = DriverRegistrationBase> {
  kind: string;
  name: string;
  api: string;
  /** The plugin whose init registered it. */
  plugin: string;
  registration: R;
}

export interface DriverKindOptions {
  /** The interface version the owner offers: drivers of the same major and no newer minor load. */
  version: string;
  /** Told of each registration before it is kept; throwing refuses it (e.g. too late to be chosen). */
  onRegister?: (entry: DriverEntry) => void;
}

export interface DriverKindInfo {
  kind: string;
  version: string;
  owner: string;
  drivers: { name: string; api: string; plugin: string }[];
}

/** ctx.drivers: one plugin's view of the registry. */
export interface DriversFacade {
  declareKind(kind: string, opts: DriverKindOptions): void;
  register<R extends DriverRegistrationBase>(kind: string, registration: R): void;
  /** Registrations of a kind, in registration order. */
  list<R extends DriverRegistrationBase>(kind: string): R[];
  get<R extends DriverRegistrationBase>(kind: string, name: string): R | undefined;
  kinds(): DriverKindInfo[];
}

/** Why a driver written for interface `api` cannot work with a host offering `offered`, if it cannot:
 * the major must match (below 1.0.0 the minor too, as semver has it), and the minor be no newer. */
export function apiMismatch(api: string, offered: string): string | undefined {
  const want = coerceVersion(api)!;
  const have = coerceVersion(offered)!;
  if (want.major !== have.major) return `needs ${have.major}.x`;
  if (have.major === 0 && want.minor !== have.minor) return `needs ${have.major}.${have.minor}.x`;
  if (want.minor > have.minor) return `needs ${have.major}.${have.minor} or older`;
  return undefined;
}

interface Kind extends DriverKindOptions {
  owner: string;
  entries: DriverEntry[];
}

export class DriverRegistry {
  private readonly kindsByName = new Map<string, Kind>();
  /** The plugin whose init is running. A registration that reaches the registry through the kind
   * owner's own facade (a compatibility wrapper on the owner's service) is credited to it. */
  initialising: string | undefined;

  facade(plugin: string): DriversFacade {
    return {
      declareKind: (kind, opts) => this.declareKind(plugin, kind, opts),
      register: (kind, registration) => this.register(plugin, kind, registration),
      list: <R extends DriverRegistrationBase>(kind: string) => this.kind(plugin, kind).entries.map((e) => e.registration as R),
      get: <R extends DriverRegistrationBase>(kind: string, name: string) =>
        this.kind(plugin, kind).entries.find((e) => e.name === name)?.registration as R | undefined,
      kinds: () => [...this.kindsByName.entries()].map(([kind, k]) => ({
        kind, version: k.version, owner: k.owner, drivers: k.entries.map(({ name, api, plugin: p }) => ({ name, api, plugin: p })),
      })),
    };
  }

  /** A plugin that skipped itself leaves no drivers behind. */
  forget(plugin: string): void {
    for (const k of this.kindsByName.values()) k.entries = k.entries.filter((e) => e.plugin !== plugin);
  }

  private declareKind(plugin: string, kind: string, opts: DriverKindOptions): void {
    const other = this.kindsByName.get(kind);
    if (other) throw pluginError(plugin, `driver kind "${kind}" is already declared by plugin ${other.owner}`);
    if (!isVersion(opts.version)) throw pluginError(plugin, `driver kind "${kind}": version: must be a semver version, got "${opts.version}"`);
    this.kindsByName.set(kind, { ...opts, owner: plugin, entries: [] });
  }

  private kind(plugin: string, kind: string): Kind {
    const k = this.kindsByName.get(kind);
    if (!k) {
      throw pluginError(plugin, `driver kind "${kind}" is declared by no plugin (require the service of the plugin that owns it, so that it starts first)`);
    }
    return k;
  }

  private register(via: string, kind: string, reg: DriverRegistrationBase): void {
    const k = this.kind(via, kind);
    const plugin = via === k.owner && this.initialising ? this.initialising : via;
    const name = typeof reg?.name === 'string' && reg.name ? reg.name : undefined;
    if (!name) throw pluginError(plugin, `${kind} driver: name: must be a non-empty string`);
    if (typeof reg.api !== 'string' || !isVersion(reg.api)) {
      throw pluginError(plugin, `${kind} driver "${name}": api: must be the version of the ${kind} driver API it was written for (this daemon's is ${k.version}), got ${JSON.stringify(reg.api)}`);
    }
    const why = apiMismatch(reg.api, k.version);
    if (why) {
      throw pluginError(plugin, `${kind} driver "${name}" is written for ${kind} driver API ${reg.api}, but this daemon's ${kind} driver API is ${k.version} (${why})`);
    }
    const same = k.entries.find((e) => e.name === name);
    if (same) throw pluginError(plugin, `${kind} driver "${name}" is already registered by plugin ${same.plugin}`);
    const entry: DriverEntry = { kind, name, api: reg.api, plugin, registration: reg };
    k.onRegister?.(entry);
    k.entries.push(entry);
  }
}
