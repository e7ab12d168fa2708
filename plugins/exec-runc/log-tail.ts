// Where `docker logs --tail N` starts: found by reading the log's files backwards from the end,
// a chunk at a time, so a long log costs only what the last N lines take. A line is a run of
// P records (a line cut short) ended by an F record; a run of P records at the very end is an
// unfinished line and counts as one.
import type { OpenLogFile } from './log-files.js';

const CHUNK = 64 * 1024;

export interface LogPosition {
  /** Index into the files (oldest first). */
  index: number;
  offset: number;
}

/** The CRI record's tag (third field) says whether it ends its line. */
export function isPartialRecord(record: Buffer): boolean {
  const a = record.indexOf(0x20);
  const b = a < 0 ? -1 : record.indexOf(0x20, a + 1);
  return b >= 0 && record[b + 1] === 0x50; // 'P'
}

/** Records of one file from its end backwards, each with its offset (newline included). */
async function* recordsBackwards(file: OpenLogFile): AsyncGenerator<{ start: number; record: Buffer }> {
  // buf holds the bytes [bufStart, bufStart + buf.length) not yet yielded.
  let bufStart = file.size;
  let buf = Buffer.alloc(0);
  const readBefore = async () => {
    const from = Math.max(0, bufStart - CHUNK);
    const chunk = Buffer.alloc(bufStart - from);
    await file.fh.read(chunk, 0, chunk.length, from);
    buf = Buffer.concat([chunk, buf]);
    bufStart = from;
  };
  // Bytes after the last newline are a record conmon is still writing: not counted yet.
  for (;;) {
    const last = buf.lastIndexOf(0x0a);
    if (last >= 0) {
      buf = buf.subarray(0, last + 1);
      break;
    }
    if (bufStart === 0) return;
    await readBefore();
  }
  while (buf.length > 0) {
    const nl = buf.length >= 2 ? buf.lastIndexOf(0x0a, buf.length - 2) : -1;
    if (nl < 0 && bufStart > 0) {
      await readBefore();
      continue;
    }
    yield { start: bufStart + nl + 1, record: buf.subarray(nl + 1) };
    buf = buf.subarray(0, nl + 1);
  }
}

/** The position of the first record of the last `lines` lines (lines > 0). */
export async function tailStart(files: OpenLogFile[], lines: number): Promise<LogPosition> {
  let counted = 0;
  for (let index = files.length - 1; index >= 0; index--) {
    for await (const { start, record } of recordsBackwards(files[index])) {
      if (!isPartialRecord(record)) {
        if (counted === lines) return { index, offset: start + record.length };
        counted++;
      } else if (counted === 0) {
        counted = 1; // the unfinished line at the very end
      }
    }
  }
  return { index: 0, offset: 0 };
}
