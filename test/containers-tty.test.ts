// Interactive terminals: docker run -it, exec -it and attach in a real terminal (tmux), window
// resizes reaching the container, detach keys (the CLI's own and the daemon's), reattaching.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { apiRequest, docker, makeTempDir, startDaemon, type RunningDaemon, DOCKER_CONFIG } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';
import { poll, waitFor } from './helpers/poll.js';

let d: RunningDaemon;
let work: string;
let tmuxSocket: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Our own tmux server (its own socket, no user configuration), never the user's. */
function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-S', tmuxSocket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
}

/** A shell command line that runs the docker CLI on our daemon, then prints its exit code. */
function dockerInPane(args: string): string {
  return `DOCKER_CONFIG=${DOCKER_CONFIG} docker -H unix://${d.socket} ${args}; echo "[exit $?]"; exec sleep 3600`;
}

function pane(target: string): string {
  return tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', target);
}

/** Polls a pane (bounded) until the pattern shows; `retry` runs between polls (re-typing a command). */
async function waitForPane(target: string, pattern: RegExp, retry?: () => void): Promise<string> {
  let text = '';
  let tries = 0;
  return waitFor(`pane ${target} to show ${pattern}`, () => {
    text = pane(target);
    if (pattern.test(text)) return text;
    if (retry && ++tries % 10 === 0) retry();
    return undefined;
  }, { maxTries: 100, intervalMs: 100, timeoutMs: 20_000, detail: () => `it shows:\n${text.replace(/\n{2,}/g, '\n')}` });
}

async function inspect(name: string): Promise<any> {
  const r = await docker(d.socket, ['inspect', name]);
  return JSON.parse(r.stdout)[0];
}

/** Events of one container and action since a unix time, polled (bounded) until one shows. */
async function waitForEvent(name: string, action: string, since: number, detail = ''): Promise<string> {
  let out = '';
  return waitFor(`a ${action} event for ${name}`, async () => {
    const until = Math.floor(Date.now() / 1000) + 1;
    out = (await docker(d.socket, ['events', '--since', String(since), '--until', String(until), '--filter', `container=${name}`, '--filter', `event=${action}`])).stdout;
    return out.split('\n').some((l) => l.includes(` ${action} `) && l.includes(detail)) && out;
  }, { maxTries: 50, intervalMs: 100, timeoutMs: 30_000, detail: () => `events: ${out}` });
}

before(async () => {
  work = makeTempDir('berth-tty-');
  tmuxSocket = join(work, 'tmux.sock');
  d = await startDaemon();
  await importBusybox(d.socket, work);
});

after(async () => {
  try {
    tmux('kill-server');
  } catch { /* never started, or already gone */ }
  await removeAllContainers(d.socket);
  await d?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

test('docker run -it in a terminal: typing, window resizes, ctrl-p ctrl-q, attach again, exec -it', async () => {
  tmux('new-session', '-d', '-s', 'tty', '-x', '80', '-y', '24', dockerInPane('run -it --name t1 busybox sh'));
  tmux('send-keys', '-t', 'tty:0', "echo hel''lo", 'Enter');
  await waitForPane('tty:0', /^hello$/m);

  // The CLI sends the size right after start, and again on SIGWINCH.
  const stty = (target: string) => () => tmux('send-keys', '-t', target, 'busybox stty size', 'Enter');
  stty('tty:0')();
  await waitForPane('tty:0', /^24 80$/m, stty('tty:0'));
  tmux('resize-window', '-t', 'tty:0', '-x', '100', '-y', '30');
  stty('tty:0')();
  await waitForPane('tty:0', /^30 100$/m, stty('tty:0'));

  // The CLI notices the detach keys itself, leaves quietly with 0; the container runs on.
  tmux('send-keys', '-t', 'tty:0', 'C-p', 'C-q');
  await waitForPane('tty:0', /\[exit 0\]/);
  assert.equal((await inspect('t1')).State.Running, true, 'detaching leaves the container running');

  // docker attach: output resumes and typing reaches the shell (stdin stayed open).
  const since = Math.floor(Date.now() / 1000);
  tmux('new-window', '-t', 'tty', '-n', 'att', dockerInPane('attach t1'));
  await waitForEvent('t1', 'resize', since); // the CLI sizes the terminal once attached
  tmux('send-keys', '-t', 'tty:att', "echo re''attached", 'Enter');
  await waitForPane('tty:att', /^reattached$/m);
  tmux('send-keys', '-t', 'tty:att', 'C-p', 'C-q');
  // docker attach reports the detach as an error of its own (as against dockerd).
  const detached = await waitForPane('tty:att', /\[exit 1\]/);
  assert.match(detached, /read escape sequence/);
  assert.equal((await inspect('t1')).State.Running, true);

  // docker exec -it: a shell of its own, with its own terminal size.
  tmux('new-window', '-t', 'tty', '-n', 'ex', dockerInPane('exec -it t1 sh'));
  tmux('resize-window', '-t', 'tty:ex', '-x', '90', '-y', '20');
  stty('tty:ex')();
  await waitForPane('tty:ex', /^20 90$/m, stty('tty:ex'));
  tmux('resize-window', '-t', 'tty:ex', '-x', '120', '-y', '40');
  stty('tty:ex')();
  await waitForPane('tty:ex', /^40 120$/m, stty('tty:ex'));
  tmux('send-keys', '-t', 'tty:ex', 'exit 3', 'Enter');
  await waitForPane('tty:ex', /\[exit 3\]/);
  assert.equal((await inspect('t1')).State.Running, true, 'the exec ending leaves the container running');
});

test('resize: 200 on a running container, dockerd\'s errors otherwise', async () => {
  await docker(d.socket, ['run', '-d', '-it', '--name', 'r1', 'busybox', 'sh']);
  const ok = await apiRequest(d.socket, 'POST', '/containers/r1/resize?h=10&w=20');
  assert.equal(ok.status, 200, ok.body);
  const size = await docker(d.socket, ['exec', 'r1', 'busybox', 'stty', '-F', '/dev/console', 'size']);
  assert.equal(size.stdout, '10 20\n', size.stderr);

  const missing = await apiRequest(d.socket, 'POST', '/containers/nope/resize?h=10&w=20');
  assert.equal(missing.status, 404);
  assert.equal(missing.json().message, 'No such container: nope');
  const bad = await apiRequest(d.socket, 'POST', '/containers/r1/resize?h=x&w=20');
  assert.equal(bad.status, 400);
  assert.equal(bad.json().message, 'strconv.Atoi: parsing "x": invalid syntax');
  const noExec = await apiRequest(d.socket, 'POST', '/exec/nope/resize?h=10&w=20');
  assert.equal(noExec.status, 404);
  assert.equal(noExec.json().message, 'No such exec instance: nope');

  const exec = await apiRequest(d.socket, 'POST', '/containers/r1/exec', { Cmd: ['true'] });
  const id = (await inspect('r1')).Id;
  await docker(d.socket, ['stop', '-t', '0', 'r1']);
  const stopped = await apiRequest(d.socket, 'POST', '/containers/r1/resize?h=10&w=20');
  assert.equal(stopped.status, 409);
  assert.equal(stopped.json().message, `Container ${id} is not running`);
  const execStopped = await apiRequest(d.socket, 'POST', `/exec/${exec.json().Id}/resize?h=10&w=20`);
  assert.equal(execStopped.status, 409);
  assert.equal(execStopped.json().message, `Container ${id} is not running`);
});

test('detach keys: dockerd\'s errors for an invalid list', async () => {
  // Checked before the container is looked up, as dockerd does.
  const attach = await hijack('/containers/nope/attach?stream=1&stdin=1&detachKeys=ctrl-pp');
  assert.equal(attach.status, 400);
  await attach.ended;
  assert.equal(JSON.parse(attach.output()).message, 'Invalid detach keys (ctrl-pp) provided');
  await docker(d.socket, ['run', '-d', '-it', '--name', 'k1', 'busybox', 'sh']);
  const exec = await apiRequest(d.socket, 'POST', '/containers/k1/exec', { Cmd: ['sh'], Tty: true, DetachKeys: 'ctrl-1' });
  assert.equal(exec.status, 400);
  assert.equal(exec.json().message, 'Invalid escape keys (ctrl-1) provided');
  const cli = await docker(d.socket, ['attach', '--no-stdin', '--detach-keys', 'ctrl-,', 'k1'], { expectCode: 'failure' });
  // The CLI reports a refused upgrade by its status only, whatever the daemon says.
  assert.match(cli.stderr, /unable to upgrade to tcp, received 400/);
  assert.equal((await inspect('k1')).State.Running, true);
});

/** A hijacked API connection (attach, exec start), as a client other than the CLI makes it. */
async function hijack(path: string, body = ''): Promise<{ status: number; socket: Socket; output: () => string; ended: Promise<void> }> {
  const socket = createConnection(d.socket);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(`POST ${path} HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`);
  // The body apart from the headers, as the CLI's writes sometimes arrive: the daemon reads it
  // separately, and typing must still reach the process afterwards.
  if (body) {
    await sleep(50);
    socket.write(body);
  }
  let raw = Buffer.alloc(0);
  socket.on('data', (c: Buffer) => (raw = Buffer.concat([raw, c])));
  const ended = new Promise<void>((resolve) => socket.once('end', resolve).once('close', resolve));
  await poll(() => raw.indexOf('\r\n\r\n') >= 0, { maxTries: 100, intervalMs: 50 });
  const head = raw.indexOf('\r\n\r\n');
  assert.ok(head > 0, `no answer to ${path}`);
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(raw.subarray(0, head).toString())?.[1]);
  return { status, socket, ended, output: () => raw.subarray(head + 4).toString('latin1') };
}

async function waitForOutput(conn: { output: () => string }, pattern: RegExp): Promise<void> {
  await poll(() => pattern.test(conn.output()), { maxTries: 100, intervalMs: 100 });
  assert.match(conn.output(), pattern);
}

test('the daemon ends an attach on the detach keys, forwards a prefix that does not complete them', async () => {
  // od first (the terminal in line mode, reading), then a shell.
  await docker(d.socket, ['run', '-d', '-it', '--name', 'k2', 'busybox', 'sh', '-c', 'busybox od -An -tx1; exec sh']);
  const since = Math.floor(Date.now() / 1000);
  const a = await hijack('/containers/k2/attach?stream=1&stdin=1&stdout=1&stderr=1&detachKeys=ctrl-x,x');
  assert.equal(a.status, 101);
  a.socket.write('a\x18'); // ctrl-x: held back until the next byte tells
  await waitForOutput(a, /a$/);
  a.socket.write('b\n\x04'); // not x: ctrl-x goes on to od after all
  await waitForOutput(a, /61 18 62 0a/);
  a.socket.write('\x18');
  a.socket.write('x');
  await a.ended;
  assert.equal((await inspect('k2')).State.Running, true);
  await waitForEvent('k2', 'detach', since);

  // Default keys, ctrl-p ctrl-q; the shell still takes input.
  const b = await hijack('/containers/k2/attach?stream=1&stdin=1&stdout=1');
  assert.equal(b.status, 101);
  b.socket.write("echo ag''ain\n");
  await waitForOutput(b, /\nagain\r?\n/);
  b.socket.write('\x10\x11');
  await b.ended;
  assert.equal((await inspect('k2')).State.Running, true);

  // An exec takes its keys from exec create; detaching leaves it running.
  const created = await apiRequest(d.socket, 'POST', '/containers/k2/exec', { Cmd: ['sh'], Tty: true, AttachStdin: true, AttachStdout: true, DetachKeys: 'ctrl-e,e' });
  assert.equal(created.status, 201, created.body);
  const execId = created.json().Id;
  const e = await hijack(`/exec/${execId}/start`, JSON.stringify({ Detach: false, Tty: true }));
  assert.equal(e.status, 101);
  e.socket.write("echo in-ex''ec\n");
  await waitForOutput(e, /\nin-exec\r?\n/);
  e.socket.write('\x05e');
  await e.ended;
  assert.equal((await apiRequest(d.socket, 'GET', `/exec/${execId}/json`)).json().Running, true);
  await waitForEvent('k2', 'detach', since, `execID=${execId}`);
});
