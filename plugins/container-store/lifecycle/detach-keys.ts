// Detach keys, as dockerd: a client attached to a terminal leaves the process running by typing
// a key sequence, ctrl-p ctrl-q unless the client names another ("ctrl-x,y", moby/term ToBytes).
import type { Writable } from 'node:stream';

export const DEFAULT_DETACH_KEYS = Buffer.from([0x10, 0x11]);

// ctrl-@ is 0, ctrl-a 1 ... ctrl-z 26, then ctrl-[ ctrl-\ ctrl-] ctrl-^ ctrl-_ (27-31).
const CTRL_NAMES = '@abcdefghijklmnopqrstuvwxyz[\\]^_';

/**
 * The bytes of a detach-key list: single characters stand for themselves, "ctrl-<c>" for the
 * control code. Empty means the default. Throws on anything else (callers word the error as the
 * dockerd endpoint does).
 */
export function parseDetachKeys(spec: string): Buffer {
  if (spec === '') return DEFAULT_DETACH_KEYS;
  const codes: number[] = [];
  for (const key of spec.split(',')) {
    const bytes = Buffer.from(key, 'utf8');
    if (bytes.length === 1) {
      codes.push(bytes[0]);
      continue;
    }
    const code = key.startsWith('ctrl-') && key.length === 6 ? CTRL_NAMES.indexOf(key[5]) : -1;
    if (code < 0) throw new Error(`Unknown character: '${key}'`);
    codes.push(code);
  }
  return Buffer.from(codes);
}

/**
 * Watches a client's input for the detach sequence (moby term.EscapeProxy): bytes that may begin
 * it are held back until the following bytes tell, and forwarded when they turn out not to.
 */
export class DetachScanner {
  private matched = 0;

  constructor(private readonly keys: Buffer) {}

  /** The bytes to pass on, and whether the sequence completed (the rest of the chunk is dropped). */
  push(chunk: Buffer): { forward: Buffer; detached: boolean } {
    const first = this.keys[0];
    if (this.matched === 0 && !chunk.includes(first)) return { forward: chunk, detached: false };
    const out: number[] = [];
    for (const byte of chunk) {
      // Held bytes plus this one; give up bytes from the front until what is left could still
      // begin the sequence.
      const pending = [...this.keys.subarray(0, this.matched), byte];
      while (pending.length && !pending.every((b, i) => b === this.keys[i])) out.push(pending.shift()!);
      this.matched = pending.length;
      if (this.matched === this.keys.length) {
        this.matched = 0;
        return { forward: Buffer.from(out), detached: true };
      }
    }
    return { forward: Buffer.from(out), detached: false };
  }

  /** Bytes held back when the input ends: they were typed, so they go on. */
  flush(): Buffer {
    const held = this.keys.subarray(0, this.matched);
    this.matched = 0;
    return Buffer.from(held);
  }
}

/**
 * Copies a client's input to a process's stdin through a DetachScanner; onDetach runs once when
 * the sequence arrives, after which nothing more is forwarded.
 */
export function forwardWithDetach(input: NodeJS.ReadableStream, stdin: Writable, keys: Buffer, onDetach: () => void): { flush(): void } {
  const scanner = new DetachScanner(keys);
  let detached = false;
  const onData = (d: Buffer) => {
    if (detached) return;
    const { forward, detached: now } = scanner.push(d);
    if (forward.length) stdin.write(forward);
    if (now) {
      detached = true;
      input.off('data', onData);
      onDetach();
    }
  };
  input.on('data', onData);
  return {
    flush() {
      const held = scanner.flush();
      if (!detached && held.length) stdin.write(held);
    },
  };
}
