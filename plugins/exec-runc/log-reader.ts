// Reads a container log as conmon writes it (the CRI "k8s-file" format, one line per chunk:
// `<RFC3339Nano time> <stdout|stderr> <F|P> <bytes>`, P for a line cut short) and yields the
// entries `docker logs` needs, with since/until/tail and follow.
import { watch } from 'node:fs';
import { open } from 'node:fs/promises';
import type { LogEntry, LogReadOptions } from '../exec/driver.js';
import { isMissing } from '../graph/host-tools.js';

const FOLLOW_POLL_MS = 250;

function parseEntry(raw: Buffer): LogEntry | null {
  const a = raw.indexOf(0x20);
  const b = raw.indexOf(0x20, a + 1);
  const c = raw.indexOf(0x20, b + 1);
  if (a < 0 || b < 0) return null;
  const stream = raw.subarray(a + 1, b).toString();
  if (stream !== 'stdout' && stream !== 'stderr') return null;
  const tag = raw.subarray(b + 1, c < 0 ? raw.length : c).toString();
  return { stream, time: raw.subarray(0, a).toString(), partial: tag.startsWith('P'), line: c < 0 ? Buffer.alloc(0) : Buffer.from(raw.subarray(c + 1)) };
}

const seconds = (time: string) => Date.parse(time) / 1000;

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
      // not there yet: the poll covers it
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export async function* readLogs(logPath: string, opts: LogReadOptions = {}): AsyncGenerator<LogEntry> {
  let offset = 0;
  let rest = Buffer.alloc(0);
  const keep = (e: LogEntry) => (opts.since === undefined || seconds(e.time) >= opts.since) && (opts.until === undefined || seconds(e.time) <= opts.until);

  async function readMore(): Promise<LogEntry[]> {
    const fh = await open(logPath, 'r').catch((err) => (isMissing(err) ? null : Promise.reject(err)));
    if (!fh) return [];
    try {
      const chunks: Buffer[] = [rest];
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        chunks.push(Buffer.from(buf.subarray(0, bytesRead)));
      }
      const all = Buffer.concat(chunks);
      const out: LogEntry[] = [];
      let start = 0;
      for (let nl = all.indexOf(0x0a); nl >= 0; nl = all.indexOf(0x0a, start)) {
        const e = parseEntry(all.subarray(start, nl));
        if (e) out.push(e);
        start = nl + 1;
      }
      rest = Buffer.from(all.subarray(start));
      return out;
    } finally {
      await fh.close();
    }
  }

  let entries = (await readMore()).filter(keep);
  if (opts.tail !== undefined && opts.tail >= 0) {
    let lines = 0;
    let i = entries.length;
    while (i > 0 && lines < opts.tail) {
      i--; // the last piece of a line (or a trailing unfinished line)
      while (i > 0 && entries[i - 1].partial) i--; // back to that line's first piece
      lines++;
    }
    entries = opts.tail === 0 ? [] : entries.slice(i);
  }
  yield* entries;
  while (opts.follow && !opts.signal?.aborted) {
    if (opts.until !== undefined && Date.now() / 1000 > opts.until) return;
    await changed(logPath, opts.signal);
    for (const e of await readMore()) if (keep(e)) yield e;
  }
}
