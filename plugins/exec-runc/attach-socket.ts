// A container's (or exec's) stdio through conmon's attach socket: a SOCK_SEQPACKET socket whose
// packets start with one byte naming the stream (2 stdout, 3 stderr) and whose written bytes go
// to stdin. Node has no SEQPACKET in core, hence node-unix-socket. Resizes go through the
// bundle's `winsz` FIFO (terminal-size.ts).
import { closeSync, constants, openSync } from 'node:fs';
import { PassThrough, Writable } from 'node:stream';
import { createRequire } from 'node:module';
import type { SeqpacketSocket as SeqpacketSocketClass } from 'node-unix-socket';
import type { StdioHandle } from '../exec/index.js';
import { writeTerminalSize } from './terminal-size.js';

// A native addon, loaded on the first attach rather than with the plugin (start-up, snapshot).
let seqpacket: typeof SeqpacketSocketClass | undefined;
const SeqpacketSocket = () =>
  (seqpacket ??= (createRequire(import.meta.url)('node-unix-socket') as { SeqpacketSocket: typeof SeqpacketSocketClass }).SeqpacketSocket);

const STREAM_BY_BYTE: Record<number, 'stdout' | 'stderr'> = { 2: 'stdout', 3: 'stderr' };
// conmon reads at most its buffer size less one byte per packet: larger writes would be cut.
const MAX_PACKET = 8192;

/** Connects to <bundle>/attach; through /proc/self/fd so long bundle paths fit sun_path. */
export function connectAttach(bundle: string, opts: { stdin: boolean }): Promise<StdioHandle> {
  const dirFd = openSync(bundle, constants.O_RDONLY | constants.O_DIRECTORY);
  const socket = new (SeqpacketSocket())();
  const output = new PassThrough({ objectMode: true });
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    socket.destroy();
    output.end();
  };
  socket.on('data', (buf: Buffer) => {
    const stream = STREAM_BY_BYTE[buf[0]];
    if (stream && buf.length > 1) output.write({ stream, data: Buffer.from(buf.subarray(1)) });
  });
  socket.on('end', close);
  socket.on('close', close);

  const stdin = opts.stdin
    ? new Writable({
        write(chunk: Buffer, _enc, cb) {
          if (closed) return cb(new Error('attach socket closed'));
          for (let off = 0; off < chunk.length; off += MAX_PACKET) {
            const part = chunk.subarray(off, off + MAX_PACKET);
            socket.write(part, 0, part.length, off + MAX_PACKET >= chunk.length ? () => cb() : undefined);
          }
          if (chunk.length === 0) cb();
        },
        final(cb) {
          // Half-close: conmon then closes the process's stdin (unless told to leave it open).
          if (!closed) socket.end(() => cb());
          else cb();
        },
      })
    : undefined;

  const handle: StdioHandle = {
    stdin,
    output: output as StdioHandle['output'],
    resize: (height: number, width: number) => writeTerminalSize(bundle, height, width),
    close,
  };
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => {
      closeSync(dirFd);
      reject(new Error(`attach ${bundle}: ${err.message}`));
    };
    socket.once('error', fail);
    try {
      socket.connect(`/proc/self/fd/${dirFd}/attach`, () => {
        closeSync(dirFd);
        socket.off('error', fail);
        socket.on('error', close);
        resolve(handle);
      });
    } catch (err) {
      fail(err as Error);
    }
  });
}
