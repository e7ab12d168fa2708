// A minimal ustar writer for archives Berth makes itself (docker save): folders and files whose
// sizes are known up front. Names stay under 100 bytes here (digests), so ustar suffices.
import { Readable } from 'node:stream';

export type TarItem =
  | { type: 'dir'; name: string }
  | { type: 'file'; name: string; data: Buffer }
  | { type: 'file'; name: string; size: number; stream: () => Promise<Readable> };

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

export function tarHeader(name: string, size: number, type: '0' | '5', mode: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar name too long: ${name}`);
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(0, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7), 148, 'ascii');
  return h;
}

const padding = (size: number) => Buffer.alloc((512 - (size % 512)) % 512);

/** Streams the items as a tar; `items` is consumed lazily, so file streams open one at a time. */
export function writeTar(items: AsyncIterable<TarItem> | Iterable<TarItem>): Readable {
  async function* generate() {
    for await (const item of items) {
      if (item.type === 'dir') {
        yield tarHeader(item.name.endsWith('/') ? item.name : `${item.name}/`, 0, '5', 0o755);
        continue;
      }
      if ('data' in item) {
        yield tarHeader(item.name, item.data.length, '0', 0o644);
        yield item.data;
        yield padding(item.data.length);
        continue;
      }
      yield tarHeader(item.name, item.size, '0', 0o644);
      let written = 0;
      for await (const chunk of await item.stream()) {
        written += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      if (written !== item.size) throw new Error(`${item.name}: expected ${item.size} bytes, got ${written}`);
      yield padding(item.size);
    }
    yield Buffer.alloc(1024);
  }
  return Readable.from(generate(), { objectMode: false });
}
