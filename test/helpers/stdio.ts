// Reading an exec driver's stdio handles in tests, every wait bounded.
import type { StdioHandle } from '../../plugins/exec/index.js';

/** `p`, or an error naming `what` after `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms} ms`)), ms)))])
    .finally(() => clearTimeout(timer));
}

/** Everything a stdio handle gives until its output ends (bounded), by stream. */
export async function drain(stdio: StdioHandle, ms = 15_000): Promise<{ stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  await within((async () => {
    for await (const chunk of stdio.output) out[chunk.stream] += chunk.data.toString();
  })(), ms, `output so far ${JSON.stringify(out)}`);
  return out;
}

/** Output until `done` says enough (bounded). */
export async function readUntil(stdio: StdioHandle, done: (s: string) => boolean, ms = 10_000): Promise<string> {
  let acc = '';
  return within((async () => {
    for await (const chunk of stdio.output) {
      acc += chunk.data.toString();
      if (done(acc)) return acc;
    }
    return acc;
  })(), ms, `output so far ${JSON.stringify(acc)}`);
}
