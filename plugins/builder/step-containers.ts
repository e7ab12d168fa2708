// The build's containers, made and ended through the containers service's jobs (create, attach,
// start, wait, extract, commit, delete), as dockerd's builder goes through its backend. Each carries
// a label naming its build, so the ones a killed daemon left are found and removed at its next start.
import { Duplex, type Readable } from 'node:stream';
import type { EngineFacade } from '../../core/plugin-api.js';
import type { ContainerConfig } from '../image-store/index.js';
import { STDERR } from '../../lib/stdcopy.js';

export const BUILD_LABEL = 'berth.builder.build';

/** A step whose container exited non-zero (RUN): the stream's errorDetail carries the code. */
export class StepError extends Error {
  constructor(message: string, readonly code: number) {
    super(message);
  }
}

export interface StepHost {
  NetworkMode: string;
  ExtraHosts?: string[];
  ShmSize?: number;
  Memory?: number; MemorySwap?: number; CpuShares?: number; CpuPeriod?: number; CpuQuota?: number;
  CpusetCpus?: string; CpusetMems?: string; CgroupParent?: string;
  Ulimits?: { Name: string; Soft: number; Hard: number }[];
}

/** Splits Docker's 8-byte-framed stream into its stdout and stderr payloads. */
class FrameSink extends Duplex {
  private pending: Buffer = Buffer.alloc(0);
  constructor(private readonly onFrame: (stream: number, data: Buffer) => void) {
    super();
  }
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      this.onFrame(this.pending[0], this.pending.subarray(8, 8 + size));
      this.pending = this.pending.subarray(8 + size);
    }
    done();
  }
  override _final(done: () => void): void {
    this.push(null);
    done();
  }
}

export class StepContainers {
  /** Containers of this build not removed yet. */
  readonly live = new Set<string>();

  constructor(private readonly engine: EngineFacade, private readonly buildId: string, private readonly host: StepHost, private readonly signal: AbortSignal) {}

  async create(config: ContainerConfig, imageId: string): Promise<string> {
    const labels = { ...(config.Labels ?? {}), [BUILD_LABEL]: this.buildId };
    const { Id } = await this.engine.run<{ Id: string }>('container.create', {
      config: { ...config, Labels: labels, Image: imageId, HostConfig: { ...this.host } },
    });
    this.live.add(Id);
    return Id;
  }

  /** Runs the container to its end, its output to `stdout`/`stderr` as it comes; the exit code. */
  async run(id: string, stdout: (b: Buffer) => void, stderr: (b: Buffer) => void): Promise<number> {
    const sink = new FrameSink((stream, data) => (stream === STDERR ? stderr(data) : stdout(data)));
    const ended = new Promise<void>((resolve) => { sink.once('finish', resolve); sink.once('close', resolve); });
    // A client that leaves ends the RUN: its process is killed, the step fails and its container goes.
    const onAbort = () => { void this.engine.run('container.kill', { name: id }).catch(() => {}); };
    this.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.engine.run('container.attach', { name: id, stdin: false, stdout: true, stderr: true, socket: sink });
      await this.engine.run('container.start', { name: id });
      if (this.signal.aborted) onAbort();
      const { StatusCode } = await this.engine.run<{ StatusCode: number }>('container.wait', { name: id, condition: 'not-running' });
      // The last of the output: the attach stream ends right after the process does.
      await Promise.race([ended, new Promise((r) => setTimeout(r, 2000).unref())]);
      return StatusCode;
    } finally {
      this.signal.removeEventListener('abort', onAbort);
      sink.destroy();
    }
  }

  async extract(id: string, path: string, tar: Readable): Promise<void> {
    await this.engine.run('container.extract', { name: id, path }, { stdin: tar });
  }

  async stat(id: string, path: string): Promise<{ mode: number } | undefined> {
    return this.engine.run<{ mode: number }>('container.archive-stat', { name: id, path }).catch(() => undefined);
  }

  /** `append`: a tar whose entries the layer gets after the container's changes (never written into the container). */
  async commit(id: string, config: ContainerConfig, containerConfig: ContainerConfig, author?: string, append?: Readable): Promise<string> {
    const { Id } = await this.engine.run<{ Id: string }>('container.commit', {
      name: id, pause: false, config, buildStep: { containerConfig, ...(append ? { append: true } : {}) }, ...(author ? { author } : {}),
    }, append ? { stdin: append } : undefined);
    return Id;
  }

  async remove(id: string): Promise<void> {
    await this.engine.run('container.delete', { name: id, force: true, volumes: true });
    this.live.delete(id);
  }

  async removeAll(): Promise<void> {
    for (const id of [...this.live]) await this.remove(id).catch(() => {});
  }
}
