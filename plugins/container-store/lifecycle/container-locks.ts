// One state change at a time per container, as dockerd's per-container lock: concurrent starts,
// stops, kills, removals and renames of one container run one after the other, each seeing what
// the one before left (a second start finds it running: 304). Waits for an exit are not held
// under the lock, so a kill can still cut a stop's grace period short.
import { KeyedLock } from '../../../lib/keyed-lock.js';

export class ContainerLocks {
  private readonly lock = new KeyedLock();
  /** Containers whose removal has begun (dockerd's RemovalInProgress). */
  private readonly removing = new Set<string>();

  /** Runs fn once every earlier operation on the container has finished. Not reentrant. */
  run<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.lock.run(id, fn);
  }

  /** Marks a removal begun; false when one already is (the caller answers dockerd's 409). */
  beginRemoval(id: string): boolean {
    if (this.removing.has(id)) return false;
    this.removing.add(id);
    return true;
  }

  endRemoval(id: string): void {
    this.removing.delete(id);
  }

  isRemoving(id: string): boolean {
    return this.removing.has(id);
  }
}
