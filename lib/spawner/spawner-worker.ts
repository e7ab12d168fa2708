// The spawner thread: runs host commands for the main thread. Node's spawn() forks the whole
// daemon synchronously, which blocks the calling thread for tens of milliseconds once the heap is
// large; here it blocks only this thread, never the event loop that serves the API.
import { spawn, type ChildProcess } from 'node:child_process';
import { parentPort } from 'node:worker_threads';
import type { ExitNotice, DoneReply, KillRequest, Request, SpawnReply, SpawnRequest, StartReply, StartRequest, StayRequest } from './protocol.js';

/** Children that live on (StartRequest), by the id of their start, until they exit. */
const started = new Map<number, ChildProcess>();

parentPort!.on('message', (req: Request) => {
  if (req.kind === 'start') start(req);
  else if (req.kind === 'stay') stay(req);
  else if (req.kind === 'kill') kill(req);
  else run(req);
});

function run(req: SpawnRequest): void {
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
}

function start(req: StartRequest): void {
  let answered = false;
  const reply = (r: Omit<StartReply, 'id'>) => {
    if (answered) return;
    answered = true;
    clearTimeout(timer);
    parentPort!.postMessage({ id: req.id, ...r } satisfies StartReply);
  };
  const timer = setTimeout(() => {
    child?.kill('SIGKILL');
    reply({ error: { message: `gave no answer within ${req.timeoutMs / 1000} s` } });
  }, req.timeoutMs);
  let child: ChildProcess | undefined;
  try {
    child = spawn(req.cmd, req.args, {
      cwd: req.cwd, detached: req.detached,
      ...(req.env ? { env: req.env } : {}),
      stdio: ['pipe', 'pipe', 'ignore', ...req.fds],
    });
  } catch (err) {
    reply({ error: { message: (err as Error).message, code: (err as NodeJS.ErrnoException).code } });
    return;
  }
  const c = child;
  started.set(req.id, c);
  c.once('exit', () => {
    started.delete(req.id);
    // The main thread keeps this thread while any child it started lives (it reaps them).
    parentPort!.postMessage({ id: 0, exited: req.id } satisfies ExitNotice);
  });
  c.once('error', (err) => reply({ error: { message: err.message, code: (err as NodeJS.ErrnoException).code } }));
  c.stdin!.on('error', () => {});
  let out = '';
  c.stdout!.setEncoding('utf8');
  c.stdout!.on('data', (s: string) => {
    out += s;
    const nl = out.indexOf('\n');
    if (nl >= 0) reply({ pid: c.pid, line: out.slice(0, nl) });
  });
  // Its output is read to the end before its exit counts: a last line comes just before it.
  c.stdout!.once('end', () => reply({ error: { message: 'exited before it answered' } }));
}

function stay(req: StayRequest): void {
  const c = started.get(req.child);
  if (c) {
    c.stdin!.end(req.input);
    c.stdout!.destroy();
    c.unref();
  }
  parentPort!.postMessage({ id: req.id, ...(c ? {} : { unknown: true }) } satisfies DoneReply);
}

function kill(req: KillRequest): void {
  const c = started.get(req.child);
  if (!c) {
    parentPort!.postMessage({ id: req.id, unknown: true } satisfies DoneReply);
    return;
  }
  c.once('exit', () => parentPort!.postMessage({ id: req.id } satisfies DoneReply));
  c.kill('SIGKILL');
}
