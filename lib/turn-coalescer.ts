// Identical reads that arrive in the same turn of the event loop share one answer. Clients that
// poll (docker ps in a loop, compose, dashboards) tend to come in bursts: a hundred list requests
// in one turn made a hundred identical lists, each built and serialized in turn, blocking every
// other client for as long (about 100 ms in the soak test). Each read is answered with state
// read after it arrived, so sharing changes nothing a client could tell.
export class TurnCoalescer<T> {
  private readonly pending = new Map<string, Promise<T>>();

  /**
   * compute's answer for `key`, computed once at the end of this turn (setImmediate) for every
   * caller with the same key until then. The answer is shared: callers must not change it (it is
   * frozen when it is an object).
   */
  run(key: string, compute: () => T | Promise<T>): Promise<T> {
    let answer = this.pending.get(key);
    if (!answer) {
      answer = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
        // Later callers get a fresh answer: theirs must reflect state after they arrived.
        this.pending.delete(key);
        const value = await compute();
        return typeof value === 'object' && value !== null ? Object.freeze(value) : value;
      });
      this.pending.set(key, answer);
    }
    return answer;
  }
}
