// The daemon's own access to a container's files (docker cp, diff, export, commit): the root
// file system mounted for the time of the work (the graph driver counts references, so a running
// container's mount is shared), bind mounts mapped, and the container's processes frozen
// meanwhile: the daemon works with paths, and a process swapping a folder for a symlink under its
// feet could otherwise send it outside the container.
import { posix } from 'node:path';
import type { Logger } from 'pino';
import { systemError } from '../../../core/plugin-api.js';
import type { RuntimesService } from '../../exec/index.js';
import type { GraphService } from '../../graph/index.js';
import type { Container } from '../records/index.js';
import { ContainerPaths, type PathMount } from './container-path.js';

export interface ContainerFsHandle {
  /** Host path of the container's root file system. */
  root: string;
  paths: ContainerPaths;
  /** Thaws the container and releases the mount; safe to call more than once. */
  release(): Promise<void>;
}

interface Freeze { count: number; paused: Promise<boolean> }

/** The bind mounts of the container's last start (its own and other plugins' files included);
 * before any start, its binds and volumes (the volume plugin records them at create). */
export function bindMountsOf(c: Container): PathMount[] {
  const mounts = c.MountPoints ?? [];
  return mounts.map((b) => ({ source: b.source, destination: posix.normalize(b.destination).replace(/(.)\/$/, '$1'), readonly: Boolean(b.readonly) }));
}

export class ContainerFs {
  private readonly freezes = new Map<string, Freeze>();

  constructor(private readonly graph: GraphService, private readonly runtimes: RuntimesService, private readonly log: Logger) {}

  async open(c: Container): Promise<ContainerFsHandle> {
    const driver = this.graph.driver();
    const root = await driver.get(c.Id);
    try {
      await this.freeze(c);
    } catch (err) {
      await driver.put(c.Id).catch(() => {});
      throw err;
    }
    let released = false;
    return {
      root,
      paths: new ContainerPaths(root, bindMountsOf(c)),
      release: async () => {
        if (released) return;
        released = true;
        await this.thaw(c).catch((err) => this.log.warn({ err, container: c.Id }, 'cannot thaw container after file access'));
        await driver.put(c.Id).catch((err) => this.log.warn({ err, container: c.Id }, 'cannot release container root file system'));
      },
    };
  }

  async use<T>(c: Container, fn: (h: ContainerFsHandle) => Promise<T>): Promise<T> {
    const h = await this.open(c);
    try {
      return await fn(h);
    } finally {
      await h.release();
    }
  }

  /** Freezes a running container (one runtime pause however many operations overlap). */
  private async freeze(c: Container): Promise<void> {
    const known = this.freezes.get(c.Id);
    if (known) {
      known.count++;
      await known.paused;
      return;
    }
    // A stopped container has no process; one the user paused stays paused and is left alone.
    const needed = c.State.Running && !c.State.Paused;
    const entry: Freeze = { count: 1, paused: needed ? this.pause(c) : Promise.resolve(false) };
    this.freezes.set(c.Id, entry);
    try {
      await entry.paused;
    } catch (err) {
      this.freezes.delete(c.Id);
      throw err;
    }
  }

  private async pause(c: Container): Promise<boolean> {
    const driver = await this.runtimes.get((c.HostConfig.Runtime as string | undefined) || undefined);
    try {
      await driver.pause(c.Id);
      return true;
    } catch (err) {
      // It may have exited meanwhile: then nothing runs in it and there is nothing to freeze.
      const state = await driver.state(c.Id).catch(() => null);
      if (state && (state.status === 'running' || state.status === 'paused')) {
        throw systemError(`cannot freeze container ${c.Id} for file access: ${(err as Error).message}`, err);
      }
      return false;
    }
  }

  private async thaw(c: Container): Promise<void> {
    const entry = this.freezes.get(c.Id);
    if (!entry || --entry.count > 0) return;
    this.freezes.delete(c.Id);
    // Left paused when the user paused it meanwhile (docker pause), as they asked.
    if (!(await entry.paused.catch(() => false)) || c.State.Paused) return;
    const driver = await this.runtimes.get((c.HostConfig.Runtime as string | undefined) || undefined);
    await driver.resume(c.Id);
  }
}
