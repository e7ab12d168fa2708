// The spawner thread: runs host commands for the main thread. Node's spawn() forks the whole
// daemon synchronously, which blocks the calling thread for tens of milliseconds once the heap is
// large; here it blocks only this thread, never the event loop that serves the API.
import { spawn } from 'node:child_process';
import { parentPort } from 'node:worker_threads';
import type { SpawnReply, SpawnRequest } from './protocol.js';

parentPort!.on('message', (req: SpawnRequest) => {
  const reply = (r: Omit<SpawnReply, 'id'>) => parentPort!.postMessage({ id: req.id, ...r } satisfies SpawnReply);
  let child;
  try {
    child = spawn(req.cmd, req.args, {
      cwd: req.cwd,
      ...(req.env ? { env: req.env } : {}),
      stdio: [req.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
  } catch (err) {
    reply({ code: null, signal: null, stdout: '', stderr: '', error: { message: (err as Error).message, code: (err as NodeJS.ErrnoException).code } });
    return;
  }
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let failed: Error | undefined;
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  child.on('error', (e) => { failed = e; });
  child.on('close', (code, signal) => {
    reply({
      code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(),
      ...(failed ? { error: { message: failed.message, code: (failed as NodeJS.ErrnoException).code } } : {}),
    });
  });
  if (req.input !== undefined) {
    child.stdin!.on('error', () => {}); // a tool that exits without reading its input
    child.stdin!.end(req.input);
  }
});
