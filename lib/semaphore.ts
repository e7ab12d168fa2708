// Runs at most `limit` tasks at once, in the order they asked: transfers daemon-wide
// (max-concurrent-downloads / -uploads) and the layers of one chain.
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  private readonly limit: () => number;

  /** A fixed limit, or a function read at each call (a reloaded configuration). */
  constructor(limit: number | (() => number)) {
    this.limit = typeof limit === 'number' ? () => limit : limit;
  }

  async run<T>(fn: () => Promise<T>, onWait?: () => void): Promise<T> {
    if (this.active >= this.limit()) {
      onWait?.();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else this.active--;
    }
  }
}
