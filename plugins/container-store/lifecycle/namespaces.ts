// Sharing another container's pid and IPC namespaces (docker run --pid/--ipc container:<id>, a
// pod's app container joining its sandbox as cri-dockerd makes one), as dockerd does: modes
// checked and `container:<name>` turned into `container:<id>` at create (moby's
// adaptSharedNamespaceContainer), the donor resolved at start (getIPCContainer, getPIDContainer),
// its namespaces handed to the exec driver by path (EXEC_DRIVER_API 2.2.0).
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../../../lib/host-cmd.js';
import { conflict, invalid, systemError } from '../../../core/plugin-api.js';
import type { ContainerSpec } from '../../exec/index.js';
import type { Container } from '../records/index.js';

type HostConfig = Record<string, unknown>;

const donorOf = (mode: unknown): string | undefined => {
  if (typeof mode !== 'string' || !mode.startsWith('container:')) return undefined;
  return mode.slice('container:'.length);
};

/**
 * At create: dockerd's words for an unknown mode; `container:<name or prefix>` recorded as the
 * donor's full ID (a rename keeps the link); an unset IpcMode is the daemon's default, private
 * (dockerd's since 1.40: such a container's IPC cannot be joined; `shareable` can be).
 */
export function adaptNamespaceModes(h: HostConfig, find: (ref: string) => Container | undefined): HostConfig {
  const ipc = (h.IpcMode as string | undefined) ?? '';
  if (!['', 'none', 'private', 'host', 'shareable'].includes(ipc) && donorOf(ipc) === undefined) throw invalid(`invalid IPC mode: ${ipc}`);
  const pid = (h.PidMode as string | undefined) ?? '';
  if (pid !== '' && pid !== 'host' && !donorOf(pid)) throw invalid(`invalid PID mode: ${pid}`);
  const out: HostConfig = { ...h, IpcMode: ipc || 'private' };
  for (const key of ['PidMode', 'IpcMode'] as const) {
    const ref = donorOf(out[key]);
    const other = ref ? find(ref) : undefined;
    if (other) out[key] = `container:${other.Id}`;
  }
  return out;
}

/** Whether a container's IPC namespace and /dev/shm may be joined (moby: its ShmPath is a folder). */
function shareableIpc(c: Container, find: (ref: string) => Container | undefined, seen = new Set<string>()): boolean {
  const mode = (c.HostConfig.IpcMode as string | undefined) ?? '';
  if (mode === 'shareable' || mode === 'host') return true;
  const ref = donorOf(mode);
  if (ref === undefined || seen.has(c.Id)) return false;
  seen.add(c.Id);
  const other = find(ref);
  return other ? shareableIpc(other, find, seen) : false;
}

function running(ref: string, other: Container | undefined, what: 'IPC' | 'PID'): Container {
  // dockerd: a missing donor is an invalid parameter, one not running a conflict; every error in
  // the PID join is a system error (it is raised while the runtime spec is made).
  const wrap = (e: Error) => (what === 'PID' ? systemError(`failed to join ${what} namespace: ${e.message}`) : e);
  if (!other) throw wrap(what === 'IPC' ? invalid(`failed to join IPC namespace: No such container: ${ref}`) : new Error(`No such container: ${ref}`));
  if (!other.State.Running || !other.State.Pid) throw wrap(what === 'IPC' ? conflict(`failed to join IPC namespace: container ${ref} is not running`) : new Error(`container ${ref} is not running`));
  if (other.State.Restarting) {
    throw wrap(what === 'IPC' ? conflict(`failed to join IPC namespace: Container ${ref} is restarting, wait until the container is running`) : new Error(`Container ${ref} is restarting, wait until the container is running`));
  }
  return other;
}

/**
 * At start, after the network is joined (dockerd's order: network, IPC, PID): the donors' namespace
 * paths (/proc/<pid>/ns/ipc|pid of their init) and the IPC donor's /dev/shm. `driverApi` is the
 * exec driver's contract version: a driver older than 2.2.0 cannot join, and is refused rather
 * than given a container that silently gets namespaces of its own.
 */
/** The host folder of a shareable container's /dev/shm (moby's ShmPath), beside its other files. */
export const shmPathOf = (dir: string) => join(dir, 'shm');

function shmSource(c: Container, find: (ref: string) => Container | undefined, dirs: (id: string) => string, seen = new Set<string>()): string {
  const ref = donorOf(c.HostConfig.IpcMode);
  const other = ref ? find(ref) : undefined;
  if (!other || seen.has(c.Id)) return shmPathOf(dirs(c.Id));
  seen.add(c.Id);
  return shmSource(other, find, dirs, seen);
}

const mounted = async (path: string) => (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').some((l) => l.split(' ')[4] === path);

/**
 * IpcMode shareable: /dev/shm is a tmpfs the daemon mounts in the container's folder and binds in,
 * so that a container joining its IPC namespace binds the same one (a mount in another mount
 * namespace cannot be bound). Mounted at start (size: ShmSize or 64 MiB), unmounted at exit.
 */
export async function setupShm(c: Container, spec: ContainerSpec, dir: string): Promise<void> {
  if ((c.HostConfig.IpcMode as string | undefined) !== 'shareable' || spec.mounts.some((m) => m.destination === '/dev/shm')) return;
  const path = shmPathOf(dir);
  await mkdir(path, { recursive: true, mode: 0o700 });
  if (!(await mounted(path))) {
    const size = (c.HostConfig.ShmSize as number | undefined) || 64 * 1024 * 1024;
    await runCommand('mount', ['-t', 'tmpfs', '-o', `nosuid,nodev,noexec,mode=1777,size=${size}`, 'shm', path]);
  }
  spec.mounts.push({ destination: '/dev/shm', type: 'bind', source: path });
}

/** Unmounts a shareable container's /dev/shm (at exit, a failed start, removal); nothing when none. */
export async function releaseShm(dir: string): Promise<void> {
  const path = shmPathOf(dir);
  if (await mounted(path).catch(() => false)) await runCommand('umount', [path]).catch(() => runCommand('umount', ['-l', path]));
}

export function joinNamespaces(c: Container, spec: ContainerSpec, find: (ref: string) => Container | undefined, driverApi: string, dirs: (id: string) => string): void {
  const h = c.HostConfig as HostConfig;
  const ipcRef = donorOf(h.IpcMode);
  const pidRef = donorOf(h.PidMode);
  if (ipcRef === undefined && pidRef === undefined) return;
  const [major, minor] = driverApi.split('.').map(Number);
  if (major < 2 || (major === 2 && minor < 2)) {
    throw invalid(`runtime ${String(h.Runtime)}: joining another container's ${ipcRef !== undefined ? 'IPC' : 'PID'} namespace needs exec-driver API 2.2.0 (the driver implements ${driverApi})`);
  }
  if (ipcRef !== undefined) {
    const other = running(ipcRef, find(ipcRef), 'IPC');
    if (!shareableIpc(other, find)) throw invalid(`failed to join IPC namespace: container ${ipcRef}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
    if ((other.HostConfig.IpcMode as string) === 'host') {
      spec.ipcMode = 'host';
    } else {
      spec.ipcNamespace = `/proc/${other.State.Pid}/ns/ipc`;
      // The donor's /dev/shm: the tmpfs the shareable container at the end of the chain holds.
      spec.mounts.push({ destination: '/dev/shm', type: 'bind', source: shmSource(other, find, dirs) });
    }
  }
  if (pidRef !== undefined) {
    const other = running(pidRef, find(pidRef), 'PID');
    if ((other.HostConfig.PidMode as string) === 'host') spec.pidMode = 'host';
    else spec.pidNamespace = `/proc/${other.State.Pid}/ns/pid`;
  }
}

/**
 * The container's cgroup under HostConfig.CgroupParent: `<parent>/<id>` as dockerd's cgroupfs
 * driver makes it (runc is run with cgroupfs, and /info says so). A relative parent is taken from
 * the cgroup root (dockerd leaves it to runc, relative to runc's own cgroup); `..` cannot leave it.
 */
export function cgroupsPathOf(c: Container): string {
  const parent = (c.HostConfig.CgroupParent as string | undefined) || '/berth';
  const clean = `/${parent}/${c.Id}`.split('/').filter((s) => s && s !== '.').reduce<string[]>((acc, s) => (s === '..' ? acc.slice(0, -1) : [...acc, s]), []);
  return `/${clean.join('/')}`;
}
