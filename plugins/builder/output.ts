// The build's progress as dockerd's classic builder streams it: JSON messages, one per write,
// with Go's HTML-safe escaping (the CLI prints them as they come).
import type { Writable } from 'node:stream';

/** JSON as Go's encoding/json writes it: <, > and & escaped. */
export const goJson = (v: unknown) => JSON.stringify(v).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);

export const shortId = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

export class BuildOutput {
  /** Whether anything was sent: errors before that are the response's status, after it a message. */
  written = false;

  constructor(private readonly out: Writable, private readonly quiet: boolean) {}

  private write(msg: unknown): void {
    this.written = true;
    this.out.write(`${goJson(msg)}\n`);
  }

  /** A line of the builder's own (Step, ---> id …); suppressed with q. */
  stream(text: string): void {
    if (!this.quiet) this.write({ stream: text });
  }

  /** RUN's stdout as it comes. */
  stdout(data: Buffer): void {
    if (!this.quiet) this.write({ stream: data.toString() });
  }

  /** RUN's stderr, in red as dockerd's StderrFormatter wraps it. */
  stderr(data: Buffer): void {
    if (!this.quiet) this.write({ stream: `\u001b[91m${data.toString()}\u001b[0m` });
  }

  /** A line of another job's JSON progress (a FROM pull), as is. */
  raw(line: string): void {
    if (this.quiet || !line.trim()) return;
    this.written = true;
    this.out.write(line.endsWith('\n') ? line : `${line}\n`);
  }

  aux(id: string): void {
    this.write({ aux: { ID: id } });
  }

  /** With q, the image ID is all the output. */
  quietResult(id: string): void {
    if (this.quiet) this.write({ stream: `${id}\n` });
  }

  error(message: string, code?: number): void {
    this.write({ errorDetail: { ...(code !== undefined ? { code } : {}), message }, error: message });
  }
}
