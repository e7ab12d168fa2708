// What hostile or broken clients may do to the API listeners, with dockerd (Go's net/http) as the
// reference: oversize headers get 431, slow headers and stalled bodies are cut, a flood of
// slow-header connections does not lock out normal clients, aborted uploads are not errors, and
// long streams (events, logs -f) and slow but live uploads survive every limit.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';
import { apiRequest, docker, makeTempDir, onCleanup, startDaemon, type RunningDaemon, type StartOptions } from './helpers/daemon.js';
import { rawRequest } from './helpers/raw-http.js';

async function fresh(t: TestContext, opts: StartOptions = {}): Promise<RunningDaemon> {
  const d = await startDaemon(opts);
  onCleanup(t, () => d.cleanup());
  return d;
}

/** Go's answer to a request line plus headers over MaxHeaderBytes, byte for byte. */
const GO_431 = 'HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n431 Request Header Fields Too Large';

/** A connection kept open by the test; `closedAt` is ms after opening when the daemon closed it. */
interface Held { socket: Socket; text: () => string; closedAt: () => number | undefined; closed: Promise<void> }

function hold(path: string, first: string | Buffer): Held {
  const socket = connect(path);
  const opened = Date.now();
  let text = '';
  let closedAt: number | undefined;
  socket.on('data', (c) => (text += c.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.on('close', () => { closedAt = Date.now() - opened; resolve(); }));
  socket.on('connect', () => socket.write(first));
  return { socket, text: () => text, closedAt: () => closedAt, closed };
}

test('oversize headers and request lines get Go\'s 431; up to 1 MiB is served', async (t) => {
  const d = await fresh(t);
  const header = await rawRequest(d.socket, `GET /_ping HTTP/1.1\r\nHost: berth\r\nX-Big: ${'a'.repeat(2 << 20)}\r\n\r\n`);
  assert.equal(header.text, GO_431, '2 MB header');
  const url = await rawRequest(d.socket, `GET /_ping?x=${'a'.repeat(10 << 20)} HTTP/1.1\r\nHost: berth\r\n\r\n`);
  assert.equal(url.text, GO_431, '10 MB URL (Go counts the request line in MaxHeaderBytes: 431, not 414)');
  // dockerd serves a 900 KB header (Node's own default limit is 16 KiB).
  const big = await rawRequest(d.socket, `GET /_ping HTTP/1.1\r\nHost: berth\r\nX-Big: ${'a'.repeat(900 << 10)}\r\nConnection: close\r\n\r\n`);
  assert.equal(big.status, 200, big.text.slice(0, 200));
  assert.match(big.text, /\r\n\r\nOK$/);
  const bad = await rawRequest(d.socket, 'GARBAGE\r\n\r\n');
  assert.equal(bad.text, 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request');
  assert.equal((await apiRequest(d.socket, 'GET', '/_ping')).status, 200, 'the daemon still serves');
});

test('500 slow-header connections do not lock /_ping out (daemon limited to 400 open files)', async (t) => {
  const d = await fresh(t, { wrapper: ['prlimit', '--nofile=400:400'] });
  const held: Held[] = [];
  t.after(() => { for (const h of held) h.socket.destroy(); });
  for (let i = 0; i < 500; i++) held.push(hold(d.socket, 'GET /_ping HTTP/1.1\r\nHost: berth\r\n'));
  await sleep(1_000);
  for (let i = 0; i < 5; i++) {
    const ping = await apiRequest(d.socket, 'GET', '/_ping');
    assert.equal(ping.status, 200);
    assert.equal(ping.body, 'OK');
  }
  assert.equal(d.proc.exitCode, null, 'the daemon is still running');
  assert.ok(held.some((h) => h.closedAt() !== undefined), 'the oldest slow connections were closed to make room');
});

test('aborted uploads are not logged as errors', async (t) => {
  const d = await fresh(t);
  const abort = (path: string, type: string) => new Promise<void>((resolve) => {
    const h = hold(d.socket, `POST ${path} HTTP/1.1\r\nHost: berth\r\nContent-Type: ${type}\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(1000)}`);
    setTimeout(() => { h.socket.destroy(); resolve(); }, 100);
  });
  for (let round = 0; round < 3; round++) {
    await Promise.all(Array.from({ length: 50 }, () => abort('/containers/create', 'application/json')));
    await Promise.all(Array.from({ length: 50 }, () => abort('/images/load', 'application/x-tar')));
  }
  await sleep(500);
  const errors = d.logs().split('\n').filter((l) => /"level":(50|60)/.test(l));
  assert.ok(errors.length < 10, `${errors.length} error lines for 300 aborted uploads:\n${errors.slice(0, 3).join('\n')}`);
  assert.equal((await apiRequest(d.socket, 'GET', '/_ping')).status, 200);
});

test('slow headers and stalled bodies are cut; events, logs -f and a slow upload outlive the timeouts', async (t) => {
  const d = await fresh(t);
  const work = makeTempDir('berth-http-limits-');
  onCleanup(t, () => rmSync(work, { recursive: true, force: true }));
  const tar = await importBusybox(d.socket, work);
  onCleanup(t, () => removeAllContainers(d.socket));
  const run = await docker(d.socket, ['run', '-d', '--network', 'none', 'busybox', 'sh', '-c', 'while true; do echo tick; sleep 1; done']);
  const id = run.stdout.trim();

  const slowHeader = hold(d.socket, 'GET /_ping HTTP/1.1\r\nHost: berth\r\n');
  const stalledBody = hold(d.socket, 'POST /containers/create HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"Image":');
  const events = hold(d.socket, 'GET /events HTTP/1.1\r\nHost: berth\r\n\r\n');
  const logs = hold(d.socket, `GET /containers/${id}/logs?follow=1&stdout=1 HTTP/1.1\r\nHost: berth\r\n\r\n`);
  const streams = [events, logs, slowHeader, stalledBody];
  t.after(() => { for (const h of streams) h.socket.destroy(); });

  // An import whose body trickles in over 15 s (longer than the header timeout, never idle for long).
  const body = readFileSync(tar);
  const upload = hold(d.socket, `POST /images/create?fromSrc=-&repo=slow&tag=1 HTTP/1.1\r\nHost: berth\r\nContent-Type: application/x-tar\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
  streams.push(upload);
  for (let i = 0; i < 15; i++) {
    await sleep(1_000);
    upload.socket.write(body.subarray(Math.floor((i * body.length) / 15), Math.floor(((i + 1) * body.length) / 15)));
  }
  await Promise.race([upload.closed, sleep(20_000)]);
  assert.match(upload.text(), /^HTTP\/1\.1 200 /, upload.text().slice(0, 300));
  assert.match(upload.text(), /"status":"sha256:[0-9a-f]{64}"/);

  await Promise.race([slowHeader.closed, sleep(15_000)]);
  const cut = slowHeader.closedAt();
  assert.ok(cut !== undefined && cut >= 9_000 && cut <= 13_000, `slow-header connection closed after ${cut} ms (header timeout 10 s)`);

  await Promise.race([stalledBody.closed, sleep(70_000)]);
  const idle = stalledBody.closedAt();
  assert.ok(idle !== undefined && idle >= 59_000 && idle <= 64_000, `stalled body closed after ${idle} ms (idle body timeout 60 s)`);

  // The streams are still open and still delivering, well past both timeouts.
  const seenLogs = logs.text().length;
  await docker(d.socket, ['tag', 'busybox', 'late:tag']);
  await sleep(2_500);
  assert.equal(events.closedAt(), undefined, 'events stream still open');
  assert.equal(logs.closedAt(), undefined, 'logs -f stream still open');
  assert.match(events.text(), /"Action":"tag"/, 'events stream still delivers');
  assert.ok(logs.text().length > seenLogs, 'logs -f still delivers');
});

test('a keep-alive connection idle for longer than Node\'s default 5 s still serves the next request', async (t) => {
  const d = await fresh(t);
  const conn: Socket = connect(d.socket);
  onCleanup(t, () => conn.destroy());
  let received = '';
  let closed = false;
  conn.setEncoding('latin1');
  conn.on('data', (c: string) => (received += c));
  conn.on('close', () => (closed = true));
  conn.on('error', () => {});
  const ping = 'GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: keep-alive\r\n\r\n';
  conn.write(ping);
  for (let i = 0; i < 100 && !/\r\n\r\nOK$/.test(received); i++) await sleep(50);
  assert.match(received, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nOK$/, 'the first ping is answered');
  // A pooled connection reused after 6 s idle, as client libraries do between calls.
  await sleep(6_000);
  assert.equal(closed, false, 'the daemon closed an idle keep-alive connection after 6 s');
  received = '';
  conn.write(ping);
  for (let i = 0; i < 100 && !/\r\n\r\nOK$/.test(received); i++) await sleep(50);
  assert.match(received, /^HTTP\/1\.1 200 OK\r\n/, 'the second ping on the same connection is answered');
});
