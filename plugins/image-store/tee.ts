// Splits one stream into several readers, pausing the source while any of them is full.
import { PassThrough, type Readable } from 'node:stream';

export function tee(src: Readable, count: number, onChunk?: (chunk: Buffer) => void): PassThrough[] {
  const outs = Array.from({ length: count }, () => new PassThrough({ highWaterMark: 1 << 20 }));
  src.on('data', (chunk: Buffer) => {
    onChunk?.(chunk);
    const full = outs.filter((o) => !o.write(chunk));
    if (full.length) {
      src.pause();
      let waiting = full.length;
      for (const o of full) o.once('drain', () => { if (--waiting === 0) src.resume(); });
    }
  });
  src.on('end', () => { for (const o of outs) o.end(); });
  src.on('error', (err) => { for (const o of outs) o.destroy(err); });
  return outs;
}
