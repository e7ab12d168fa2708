// Pull-based reading of exact byte counts from a stream. Bytes are only pulled when asked for,
// so a slow consumer slows the producer (back-pressure) and nothing is buffered beyond one chunk.

const EMPTY = Buffer.alloc(0);

export class ByteSource {
  private readonly iterator: AsyncIterator<Buffer | string>;
  private pending: Buffer = EMPTY;
  private done = false;
  /** Bytes handed out so far (for error messages). */
  offset = 0;

  constructor(input: AsyncIterable<Buffer | string>) {
    this.iterator = input[Symbol.asyncIterator]();
  }

  /** Up to `max` bytes (at least one), or null at the end of the input. Slices, never copies. */
  async readUpTo(max: number): Promise<Buffer | null> {
    if (this.pending.length === 0 && !(await this.fill())) return null;
    const out = this.pending.length <= max ? this.pending : this.pending.subarray(0, max);
    this.pending = this.pending.subarray(out.length);
    this.offset += out.length;
    return out;
  }

  /** Exactly `n` bytes, or fewer only when the input ends first. */
  async read(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const chunk = await this.readUpTo(n - got);
      if (!chunk) break;
      parts.push(chunk);
      got += chunk.length;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, got);
  }

  /** Reads and drops up to `n` bytes; returns how many were there. */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      const chunk = await this.readUpTo(left);
      if (!chunk) break;
      left -= chunk.length;
    }
    return n - left;
  }

  /** Stops the underlying input early (its stream is destroyed). */
  async close(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.iterator.return?.();
  }

  private async fill(): Promise<boolean> {
    while (!this.done) {
      const next = await this.iterator.next();
      if (next.done) {
        this.done = true;
        return false;
      }
      const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
      if (chunk.length > 0) {
        this.pending = chunk;
        return true;
      }
    }
    return false;
  }
}
