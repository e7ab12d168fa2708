// The spawner thread: runs host commands for the main thread. Node's spawn() forks the whole
// daemon synchronously, which blocks the calling thread for tens of milliseconds once the heap is
// large; here it blocks only this thread, never the event loop that serves the API.
import { spawn, type ChildProcess } from 'node:child_process';
import { parentPort } from 'node:worker_threads';
import type { Readable } from 'node:stream';
import type { ExitNotice, DoneReply, KillRequest, PipedRequest, PipeNotice, ReleaseRequest, Request, SpawnReply, SpawnRequest, StartReply, StartRequest, StayRequest, WriteRequest } from './protocol.js';

/** Children that live on (StartRequest), by the id of their start, until they exit. */
const started = new Map<number, ChildProcess>();
/** Children with relayed pipes (PipedRequest), by the id of their start, until exited and closed. */
const piped = new Map<number, { pipes: Map<number, Readable>; release: () => void }>();

parentPort!.on('message', (req: Request) => {
  if (req.kind === 'start') start(req);
  else if (req.kind === 'stay') stay(req);
  else if (req.kind === 'kill') kill(req);
  else if (req.kind === 'piped') startPiped(req);
  else if (req.kind === 'write') writePipe(req);
  else if (req.kind === 'release') release(req);
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

function startPiped(req: PipedRequest): void {
  let child: ChildProcess;
  try {
    child = spawn(req.cmd, req.args, {
      cwd: req.cwd, detached: req.detached,
      ...(req.env ? { env: req.env } : {}),
      stdio: ['ignore', 'ignore', 'pipe', ...Array.from({ length: req.pipes }, () => 'pipe' as const)],
    });
  } catch (err) {
    parentPort!.postMessage({ id: req.id, error: { message: (err as Error).message, code: (err as NodeJS.ErrnoException).code } } satisfies StartReply);
    return;
  }
  // Alive until it exited (or never ran) and every pipe ended: then the main thread may let this thread go.
  let exited = false;
  let done = false;
  const pipes = new Map<number, Readable>();
  const finish = () => {
    if (done || !exited || pipes.size) return;
    done = true;
    piped.delete(req.id);
    parentPort!.postMessage({ id: 0, exited: req.id } satisfies ExitNotice);
  };
  child.stdio.forEach((s, fd) => {
    if (fd < 2 || !s) return;
    const stream = s as Readable;
    pipes.set(fd, stream);
    stream.setEncoding('utf8');
    stream.on('data', (data: string) => parentPort!.postMessage({ id: 0, child: req.id, fd, data } satisfies PipeNotice));
    stream.on('error', () => {});
    stream.once('close', () => {
      if (!pipes.delete(fd)) return;
      parentPort!.postMessage({ id: 0, child: req.id, fd } satisfies PipeNotice);
      finish();
    });
  });
  piped.set(req.id, { pipes, release: () => { for (const p of [...pipes.values()]) p.destroy(); } });
  child.once('spawn', () => parentPort!.postMessage({ id: req.id, pid: child.pid } satisfies StartReply));
  child.once('error', (err) => {
    exited = true;
    parentPort!.postMessage({ id: req.id, error: { message: err.message, code: (err as NodeJS.ErrnoException).code } } satisfies StartReply);
    finish();
  });
  child.once('exit', () => { exited = true; finish(); });
}

function writePipe(req: WriteRequest): void {
  const pipe = piped.get(req.child)?.pipes.get(req.fd) as unknown as NodeJS.WritableStream | undefined;
  pipe?.write(req.data);
  parentPort!.postMessage({ id: req.id, ...(pipe ? {} : { unknown: true }) } satisfies DoneReply);
}

function release(req: ReleaseRequest): void {
  const p = piped.get(req.child);
  p?.release();
  parentPort!.postMessage({ id: req.id, ...(p ? {} : { unknown: true }) } satisfies DoneReply);
}
