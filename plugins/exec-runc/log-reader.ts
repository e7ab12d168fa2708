// Reads a container log as conmon writes it (the CRI "k8s-file" format, one line per chunk:
// `<RFC3339Nano time> <stdout|stderr> <F|P> <bytes>`, P for a line cut short) and yields the
// entries `docker logs` needs: across the rotated files, oldest first, with tail (applied first,
// as dockerd does), then since/until, and follow across rotations and restarts of the container.
import { watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { LogEntry, LogReadOptions } from '../exec/index.js';
import { openLogFiles, openNextLogFile, type OpenLogFile } from './log-files.js';
import { tailStart, type LogPosition } from './log-tail.js';

const FOLLOW_POLL_MS = 250;
const CHUNK = 64 * 1024;

export function parseEntry(raw: Buffer): LogEntry | null {
  const a = raw.indexOf(0x20);
  const b = raw.indexOf(0x20, a + 1);
  const c = raw.indexOf(0x20, b + 1);
  if (a < 0 || b < 0) return null;
  const stream = raw.subarray(a + 1, b).toString();
  if (stream !== 'stdout' && stream !== 'stderr') return null;
  const tag = raw.subarray(b + 1, c < 0 ? raw.length : c).toString();
  return { stream, time: raw.subarray(0, a).toString(), partial: tag.startsWith('P'), line: c < 0 ? Buffer.alloc(0) : Buffer.from(raw.subarray(c + 1)) };
}

/** Unix seconds of an RFC 3339 time, its nanoseconds kept as the fraction. */
export function entrySeconds(time: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m) return Date.parse(time) / 1000;
  return Date.parse(m[1] + m[3]) / 1000 + (m[2] ? Number(`0${m[2]}`) : 0);
}

/** Waits for the file to change (or a poll tick, or abort). */
function changed(path: string, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    let watcher: ReturnType<typeof watch> | undefined;
    const done = () => {
      clearTimeout(timer);
      watcher?.close();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, FOLLOW_POLL_MS);
    try {
      watcher = watch(path, done);
      watcher.on('error', done);
    } catch {
      // not there (yet, or between a rotation and conmon's reopen): the poll covers it
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

interface Cursor { file: OpenLogFile; offset: number; rest: Buffer }

/** The whole records from the cursor to the file's current end. */
async function* readToEnd(cur: Cursor): AsyncGenerator<LogEntry> {
  const buf = Buffer.alloc(CHUNK);
  for (;;) {
    const { bytesRead } = await cur.file.fh.read(buf, 0, buf.length, cur.offset);
    if (bytesRead === 0) return;
    cur.offset += bytesRead;
    const all = cur.rest.length ? Buffer.concat([cur.rest, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
    const out: LogEntry[] = [];
    let start = 0;
    for (let nl = all.indexOf(0x0a); nl >= 0; nl = all.indexOf(0x0a, start)) {
      const e = parseEntry(all.subarray(start, nl));
      if (e) out.push(e);
      start = nl + 1;
    }
    cur.rest = Buffer.from(all.subarray(start));
    yield* out;
  }
}

/** Where --tail starts; 0 lines: after the last whole record. */
async function startOf(files: OpenLogFile[], tail: number | undefined): Promise<LogPosition> {
  if (tail === undefined || tail < 0 || !files.length) return { index: 0, offset: 0 };
  if (tail > 0) return tailStart(files, tail);
  const last = files.length - 1;
  const chunk = Buffer.alloc(Math.min(files[last].size, CHUNK));
  await files[last].fh.read(chunk, 0, chunk.length, files[last].size - chunk.length);
  const nl = chunk.lastIndexOf(0x0a);
  return { index: last, offset: nl < 0 ? (chunk.length < files[last].size ? files[last].size : 0) : files[last].size - chunk.length + nl + 1 };
}

export async function* readLogs(logPath: string, opts: LogReadOptions = {}): AsyncGenerator<LogEntry> {
  const { since, until } = opts;
  // dockerd's forwarder: entries before since are skipped, the first one after until ends it all.
  const verdict = (e: LogEntry): 'keep' | 'skip' | 'stop' => {
    if (since === undefined && until === undefined) return 'keep';
    const t = entrySeconds(e.time);
    if (until !== undefined && t > until) return 'stop';
    return since !== undefined && t < since ? 'skip' : 'keep';
  };
  const files = await openLogFiles(logPath);
  const open = new Set(files);
  const close = async (f: OpenLogFile) => {
    if (open.delete(f)) await f.fh.close().catch(() => {});
  };
  let cur: Cursor | null = null;
  try {
    const from = await startOf(files, opts.tail);
    for (let i = from.index; i < files.length; i++) {
      const c: Cursor = { file: files[i], offset: i === from.index ? from.offset : 0, rest: Buffer.alloc(0) };
      for await (const e of readToEnd(c)) {
        const v = verdict(e);
        if (v === 'stop') return;
        if (v === 'keep') yield e;
      }
      if (i === files.length - 1) cur = c;
      else await close(files[i]);
    }
    while (opts.follow && !opts.signal?.aborted) {
      if (until !== undefined && Date.now() / 1000 > until) return;
      await changed(logPath, opts.signal);
      // What is new, moving on to the next file when the log was rotated or started afresh.
      for (;;) {
        if (!cur) {
          const first = await openNextLogFile(logPath, -1);
          if (!first) break;
          open.add(first);
          cur = { file: first, offset: 0, rest: Buffer.alloc(0) };
        }
        for await (const e of readToEnd(cur)) {
          const v = verdict(e);
          if (v === 'stop') return;
          if (v === 'keep') yield e;
        }
        const now = await stat(logPath).catch(() => null);
        if (!now || now.ino === cur.file.ino) break;
        // A new file at the log path: conmon has closed this one, so what is left in it is final.
        for await (const e of readToEnd(cur)) {
          const v = verdict(e);
          if (v === 'stop') return;
          if (v === 'keep') yield e;
        }
        const next = await openNextLogFile(logPath, cur.file.ino);
        if (!next) break;
        await close(cur.file);
        open.add(next);
        cur = { file: next, offset: 0, rest: Buffer.alloc(0) };
      }
    }
  } finally {
    for (const f of [...open]) await close(f);
  }
}
