// The one parser of every way a container asks for a mount: -v / Binds, --mount (HostConfig.Mounts),
// --tmpfs (HostConfig.Tmpfs), --volumes-from and VOLUME entries of the image or the request
// (Config.Volumes), in dockerd's order (registerMountPoints): volumes-from first, then binds and
// mounts, which must not share a destination, then anonymous volumes where nothing is mounted yet.
// Whatever Berth cannot honour is refused with a 400 naming it.
import { posix } from 'node:path';
import { invalid } from '../../core/plugin-api.js';
import { checkVolumeName } from './names.js';

/** A container's mount as dockerd keeps it (MountPoint), persisted by the volumes service. */
export interface MountPoint {
  Type: 'volume' | 'bind' | 'tmpfs';
  /** Volumes: the volume's name ("" until an anonymous one is made). */
  Name?: string;
  /** Binds: the host path; volumes: the volume's path on the host (known once made); tmpfs: "". */
  Source: string;
  Destination: string;
  Driver?: string;
  /** As dockerd shows it: the -v mode ("ro", "z" …), "z" for volumes. */
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** How it was asked: what the volumes service needs to make and mount it. */
  NoCopy?: boolean;
  DriverOpts?: Record<string, string>;
  Labels?: Record<string, string>;
  /** tmpfs mount data (size=…, mode=…, and --tmpfs options). */
  TmpfsOptions?: string[];
  /** A -v bind whose missing host path is made at start (--mount binds must exist). */
  CreateSource?: boolean;
  /** Given by --tmpfs (HostConfig.Tmpfs): dockerd does not list these under Mounts. */
  Hidden?: boolean;
}

const PROPAGATIONS = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);
const LABELS = new Set(['z', 'Z']);

const specError = (spec: string, why?: string) => invalid(`invalid volume specification: '${spec}'${why ? `: ${why}` : ''}`);
const mountError = (type: string, why: string) => invalid(`invalid mount config for type ${JSON.stringify(type)}: ${why}`);

function checkDestination(dest: string, onError: (why: string) => Error): string {
  if (!posix.isAbsolute(dest)) throw onError(`invalid mount path: '${dest}' mount path must be absolute`);
  const clean = posix.normalize(dest).replace(/(.)\/$/, '$1');
  if (clean === '/') throw invalid('invalid specification: destination can\'t be \'/\'');
  return clean;
}

/** SELinux labels (z, Z) relabel nothing on a host without SELinux, as with dockerd there. */
export type SelinuxCheck = () => boolean;

/** One -v / Binds entry: src:dst[:mode], or dst alone (an anonymous volume). */
export function parseBindSpec(spec: string, volumeDriver: string, selinux: SelinuxCheck): MountPoint {
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) throw specError(spec);
  let [src, dst, mode] = parts.length === 1 ? ['', parts[0], ''] : [parts[0], parts[1], parts[2] ?? ''];
  if (parts.length === 2 && validMode(parts[1])) throw specError(spec);
  if (parts.length === 1) [src, dst] = ['', parts[0]];
  const modes = mode ? mode.split(',') : [];
  for (const m of modes) if (!validMode(m)) throw invalid(`invalid mode: ${mode}`);
  if (modes.filter((m) => m === 'ro' || m === 'rw').length > 1 || modes.filter((m) => PROPAGATIONS.has(m)).length > 1) throw invalid(`invalid mode: ${mode}`);
  if (modes.some((m) => LABELS.has(m)) && selinux()) throw invalid(`invalid mode: ${mode}: SELinux relabelling (z, Z) is not supported by Berth`);
  const destination = checkDestination(dst, (why) => specError(spec, why));
  const rw = !modes.includes('ro');
  const propagation = modes.find((m) => PROPAGATIONS.has(m));
  if (posix.isAbsolute(src)) {
    if (modes.includes('nocopy')) throw invalid(`invalid mode: ${mode}: nocopy applies to volumes only`);
    return { Type: 'bind', Source: posix.normalize(src), Destination: destination, Mode: mode, RW: rw, Propagation: propagation ?? 'rprivate', CreateSource: true };
  }
  if (propagation) throw specError(spec, 'propagation is not allowed on a volume');
  if (src) checkVolumeName(src);
  return {
    Type: 'volume', Name: src, Source: '', Destination: destination, Driver: volumeDriver, Mode: mode || 'z', RW: rw, Propagation: '',
    ...(modes.includes('nocopy') ? { NoCopy: true } : {}),
  };
}

function validMode(m: string): boolean {
  return m === 'ro' || m === 'rw' || m === 'nocopy' || LABELS.has(m) || PROPAGATIONS.has(m);
}

interface ApiMount {
  Type?: string; Source?: string; Target?: string; ReadOnly?: boolean; Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean; ReadOnlyNonRecursive?: boolean; ReadOnlyForceRecursive?: boolean } | null;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> | null; DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null; Subpath?: string } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number } | null;
}

/** One --mount entry (HostConfig.Mounts), checked as dockerd's validateMountConfig does. */
export function parseApiMount(m: ApiMount, volumeDriver: string): MountPoint {
  const type = m.Type ?? '';
  if (!m.Target) throw mountError(type, 'field Target must not be empty');
  const destination = checkDestination(m.Target, (why) => mountError(type, why));
  const rw = !m.ReadOnly;
  const not = (field: keyof ApiMount) => { if (m[field]) throw mountError(type, `field ${field} must not be specified`); };
  switch (type) {
    case 'bind': {
      not('VolumeOptions'); not('TmpfsOptions');
      if (!m.Source) throw mountError(type, 'field Source must not be empty');
      if (!posix.isAbsolute(m.Source)) throw mountError(type, `invalid mount path: '${m.Source}' mount path must be absolute`);
      const b = m.BindOptions ?? {};
      if (b.NonRecursive) throw mountError(type, 'BindOptions.NonRecursive (bind-recursive=disabled): non-recursive bind mounts are not supported by Berth');
      const propagation = b.Propagation || 'rprivate';
      if (!PROPAGATIONS.has(propagation)) throw invalid(`invalid propagation mode: ${propagation}`);
      return { Type: 'bind', Source: posix.normalize(m.Source), Destination: destination, Mode: '', RW: rw, Propagation: propagation };
    }
    case 'volume': {
      not('BindOptions'); not('TmpfsOptions');
      if (m.Source) checkVolumeName(m.Source);
      const v = m.VolumeOptions ?? {};
      if (v.Subpath) throw mountError(type, 'VolumeOptions.Subpath (volume-subpath, API 1.45) is not supported by Berth');
      return {
        Type: 'volume', Name: m.Source ?? '', Source: '', Destination: destination, Driver: v.DriverConfig?.Name || volumeDriver, Mode: 'z', RW: rw, Propagation: '',
        ...(v.NoCopy ? { NoCopy: true } : {}),
        ...(v.DriverConfig?.Options && Object.keys(v.DriverConfig.Options).length ? { DriverOpts: v.DriverConfig.Options } : {}),
        ...(v.Labels && Object.keys(v.Labels).length ? { Labels: v.Labels } : {}),
      };
    }
    case 'tmpfs': {
      not('BindOptions'); not('VolumeOptions');
      if (m.Source) throw mountError(type, 'field Source must not be specified');
      const t = m.TmpfsOptions ?? {};
      if (t.SizeBytes !== undefined && t.SizeBytes < 0) throw mountError(type, `invalid tmpfs size: ${t.SizeBytes}`);
      const opts = [...(t.SizeBytes ? [`size=${t.SizeBytes}`] : []), ...(t.Mode ? [`mode=${(t.Mode & 0o7777).toString(8)}`] : []), ...(rw ? [] : ['ro'])];
      return { Type: 'tmpfs', Source: '', Destination: destination, Mode: '', RW: rw, Propagation: '', TmpfsOptions: opts };
    }
    default:
      throw mountError(type, type === 'npipe' || type === 'cluster' ? `mount type ${type} is not supported on Linux by Berth` : 'mount type unknown');
  }
}

const TMPFS_FLAGS = new Set([
  'ro', 'rw', 'exec', 'noexec', 'suid', 'nosuid', 'dev', 'nodev', 'sync', 'async', 'dirsync', 'atime', 'noatime', 'diratime', 'nodiratime',
  'relatime', 'norelatime', 'strictatime', 'nostrictatime', 'mand', 'nomand', 'remount', 'bind', 'rbind', 'private', 'rprivate', 'shared',
  'rshared', 'slave', 'rslave', 'unbindable', 'runbindable',
]);
const TMPFS_DATA = /^(size|mode|uid|gid|nr_inodes|nr_blocks|mpol|huge)=/;

/** One --tmpfs entry (HostConfig.Tmpfs: destination → "size=64m,mode=1777"). */
export function parseTmpfs(dest: string, options: string): MountPoint {
  const destination = checkDestination(dest, (why) => mountError('tmpfs', why));
  const opts = options ? options.split(',') : [];
  for (const o of opts) if (!TMPFS_FLAGS.has(o) && !TMPFS_DATA.test(o)) throw invalid(`invalid tmpfs option ${JSON.stringify(o)} for ${dest}`);
  return { Type: 'tmpfs', Source: '', Destination: destination, Mode: '', RW: !opts.includes('ro'), Propagation: '', TmpfsOptions: opts, Hidden: true };
}

/** One --volumes-from entry: container[:ro|rw]. */
export function parseVolumesFrom(spec: string): { container: string; mode: '' | 'ro' | 'rw' } {
  const [container, mode = '', ...rest] = spec.split(':');
  if (!container || rest.length || !['', 'ro', 'rw'].includes(mode)) throw invalid(`invalid mode: ${mode || spec}`);
  return { container, mode: mode as '' | 'ro' | 'rw' };
}

export interface MountRequest {
  Binds?: string[] | null;
  Mounts?: ApiMount[] | null;
  Tmpfs?: Record<string, string> | null;
  VolumesFrom?: string[] | null;
  VolumeDriver?: string;
  /** Config.Volumes: the request's and the image's VOLUME entries. */
  Volumes?: Record<string, unknown> | null;
}

/**
 * Every mount of a container being created, in dockerd's order. `mountsOf` gives another
 * container's mount points (--volumes-from; it throws for an unknown container).
 */
export function containerMounts(req: MountRequest, mountsOf: (ref: string) => MountPoint[], selinux: SelinuxCheck): MountPoint[] {
  const driver = req.VolumeDriver || '';
  const byDest = new Map<string, MountPoint>();
  for (const spec of req.VolumesFrom ?? []) {
    const { container, mode } = parseVolumesFrom(spec);
    for (const m of mountsOf(container)) {
      if (m.Hidden) continue;
      // Shared volumes keep their content: nothing of this container's image is copied into them.
      const shared: MountPoint = { ...m, ...(m.Type === 'volume' ? { NoCopy: true } : {}) };
      byDest.set(m.Destination, mode ? { ...shared, RW: mode === 'rw', Mode: mode } : shared);
    }
  }
  const own = new Set<string>();
  const add = (m: MountPoint) => {
    if (own.has(m.Destination)) throw invalid(`Duplicate mount point: ${m.Destination}`);
    own.add(m.Destination);
    byDest.set(m.Destination, m);
  };
  for (const b of req.Binds ?? []) add(parseBindSpec(b, driver, selinux));
  for (const m of req.Mounts ?? []) add(parseApiMount(m, driver));
  for (const [dest, opts] of Object.entries(req.Tmpfs ?? {})) add(parseTmpfs(dest, opts ?? ''));
  // VOLUME entries with nothing mounted there get anonymous volumes.
  for (const dest of Object.keys(req.Volumes ?? {})) {
    const clean = checkDestination(dest, (why) => specError(dest, why));
    if (!byDest.has(clean)) byDest.set(clean, { Type: 'volume', Name: '', Source: '', Destination: clean, Driver: driver, Mode: '', RW: true, Propagation: '' });
  }
  return [...byDest.values()];
}
