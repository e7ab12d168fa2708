// POST /images/load of a generated archive, checked the way `docker load` would check it.
import { performance } from 'node:perf_hooks';
import type { Archive } from './docker-archive.js';
import type { Daemon } from './daemons.js';
import { postFile } from './unix-http.js';

/** Streams the archive to the daemon; resolves with the seconds from first byte sent to the end of its answer. */
export async function loadArchive(d: Daemon, archive: Archive): Promise<number> {
  const t0 = performance.now();
  let reply;
  try {
    reply = await postFile(d.socket, '/images/load?quiet=1', archive.path, 'application/x-tar');
  } catch (err) {
    throw new Error(`POST /images/load: ${(err as Error).message}\n${d.logs().slice(-4000)}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const messages = reply.body.split('\n').filter((l) => l.trim()).map((l) => {
    try {
      return JSON.parse(l) as { stream?: string; error?: string; errorDetail?: { message?: string }; message?: string };
    } catch {
      return { error: `not JSON: ${l.slice(0, 200)}` };
    }
  });
  const problem = reply.status !== 200
    ? `HTTP ${reply.status}: ${messages[0]?.message ?? reply.body.slice(0, 500)}`
    : messages.find((m) => m.error || m.errorDetail)?.error
      ?? (reply.body.includes('"error"') ? reply.body.slice(0, 500) : undefined);
  if (problem) throw new Error(`POST /images/load: ${problem}\n${d.logs().slice(-4000)}`);
  const loaded = messages.map((m) => m.stream ?? '').join('');
  const missing = archive.tags.filter((t) => !loaded.includes(`Loaded image: ${t}`));
  if (!loaded.includes('Loaded image') || missing.length) {
    throw new Error(`POST /images/load: the answer does not report ${missing.join(', ') || 'a loaded image'}: ${reply.body.slice(0, 500)}`);
  }
  return seconds;
}
