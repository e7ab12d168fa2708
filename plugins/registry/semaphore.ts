// Bounds concurrent transfers daemon-wide (max-concurrent-downloads / -uploads).
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: () => number) {}

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
