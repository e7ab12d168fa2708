// Races and paths the client libraries found, with the docker CLI and raw API calls back to back:
// wait then rm, kill then inspect, exec -d, exec --privileged, hijacking routes asked without an
// Upgrade header, exec detach keys, and docker load of compressed archives.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { apiRequest, docker, type DockerOptions, type RunningDaemon } from './helpers/daemon.js';
import { withBusyboxDaemon } from './helpers/busybox.js';
import { poll } from './helpers/poll.js';
import { jsonRequest, rawRequest } from './helpers/raw-http.js';

let d: RunningDaemon;
let work: string;
withBusyboxDaemon('berth-clients-cli-', (daemon, dir) => { d = daemon; work = dir; });

const cli = (args: string[], opts: DockerOptions = {}) => docker(d.socket, args, { timeoutMs: 60_000, ...opts });
const json = async (method: string, path: string, body?: object) => {
  const r = await apiRequest(d.socket, method, path, body);
  return { status: r.status, body: r.body ? JSON.parse(r.body) : undefined };
};

test('docker wait x && docker rm x succeeds 50 of 50 times', async () => {
  const failures: string[] = [];
  for (let i = 0; i < 50; i++) {
    await cli(['run', '-d', '--name', `wr${i}`, 'busybox', 'true']);
    assert.equal((await cli(['wait', `wr${i}`])).stdout.trim(), '0');
    const rm = await cli(['rm', `wr${i}`], { expectCode: 'any' });
    if (rm.code !== 0) failures.push(`${i}: ${rm.stderr.trim()}`);
  }
  assert.deepEqual(failures, []);
});

test('POST /kill then inspect, 20 times back to back: exited, 137', async () => {
  for (let i = 0; i < 20; i++) {
    const { body: { Id: id } } = await json('POST', '/containers/create', { Image: 'busybox', Cmd: ['sleep', '60'] });
    assert.equal((await json('POST', `/containers/${id}/start`)).status, 204);
    assert.equal((await json('POST', `/containers/${id}/kill`)).status, 204);
    const state = (await json('GET', `/containers/${id}/json`)).body.State;
    assert.deepEqual([state.Status, state.ExitCode, state.Running], ['exited', 137, false], `round ${i}`);
    assert.equal((await json('DELETE', `/containers/${id}`)).status, 204, `round ${i}: rm right after`);
  }
});

test('docker exec -d returns at once and the process runs', async () => {
  await cli(['run', '-d', '--name', 'ed', 'busybox', 'sleep', '60']);
  const started = Date.now();
  await cli(['exec', '-d', 'ed', 'sh', '-c', 'echo $$ > /tmp/pid; exec sleep 30']);
  assert.ok(Date.now() - started < 5000);
  const alive = await poll(async () => (await cli(['exec', 'ed', 'sh', '-c', 'test -s /tmp/pid && kill -0 $(cat /tmp/pid) && echo alive'], { expectCode: 'any' })).stdout.trim(), { timeoutMs: 10_000 });
  assert.equal(alive, 'alive');
  await cli(['rm', '-f', 'ed']);
});

/** The daemon's bounding set as /proc shows it: what a privileged process gets. */
const hostCapBnd = () => /^CapBnd:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1];

test('docker exec --privileged gets every capability the host gives, in a privileged container or not', async () => {
  await cli(['run', '-d', '--name', 'pe', 'busybox', 'sleep', '60']);
  await cli(['run', '-d', '--privileged', '--name', 'pp', 'busybox', 'sleep', '60']);
  for (const name of ['pe', 'pp']) {
    const r = await cli(['exec', '--privileged', name, 'sh', '-c', 'grep CapEff /proc/self/status']);
    assert.equal(r.stdout.trim().split(/\s+/)[1], hostCapBnd(), name);
  }
  // Without --privileged, the container's own set (dockerd's default one) in the default container.
  const plain = await cli(['exec', 'pe', 'sh', '-c', 'grep CapEff /proc/self/status']);
  assert.equal(plain.stdout.trim().split(/\s+/)[1], '00000000a80425fb');
  await cli(['rm', '-f', 'pe', 'pp']);
});

test('POST /containers/{id}/attach without Upgrade: 200 and the raw stream, as dockerd hijacks anyway', async () => {
  const { body: { Id: id } } = await json('POST', '/containers/create', { Image: 'busybox', Cmd: ['sh', '-c', 'sleep 1; echo attached'] });
  await json('POST', `/containers/${id}/start`);
  const r = await rawRequest(d.socket, jsonRequest('POST', `/v1.41/containers/${id}/attach?stream=1&stdout=1&stderr=1`, ''), 20_000);
  assert.equal(r.status, 200, r.text);
  assert.match(r.text, /content-type: application\/vnd\.docker\.raw-stream/i);
  const body = Buffer.from(r.text.slice(r.text.indexOf('\r\n\r\n') + 4), 'latin1');
  assert.deepEqual([...body.subarray(0, 8)], [1, 0, 0, 0, 0, 0, 0, 9]);
  assert.equal(body.subarray(8).toString(), 'attached\n');
  await json('DELETE', `/containers/${id}?force=1`);
});

test('exec start with Tty: the raw bytes, hijacked or not; detach keys from the query end the attach', async () => {
  const { body: { Id: id } } = await json('POST', '/containers/create', { Image: 'busybox', Cmd: ['sleep', '60'] });
  await json('POST', `/containers/${id}/start`);
  const exec = async (config: object) => (await json('POST', `/containers/${id}/exec`, config)).body.Id as string;
  const e1 = await exec({ Cmd: ['echo', 'tty'], AttachStdout: true, Tty: true });
  const plain = await rawRequest(d.socket, jsonRequest('POST', `/exec/${e1}/start`, JSON.stringify({ Tty: true })));
  assert.equal(plain.status, 200);
  assert.equal(plain.text.slice(plain.text.indexOf('\r\n\r\n') + 4), 'tty\r\n');
  const e2 = await exec({ Cmd: ['echo', 'tty'], AttachStdout: true, Tty: true });
  const up = await rawRequest(d.socket, jsonRequest('POST', `/exec/${e2}/start`, JSON.stringify({ Tty: true }), ['Upgrade: tcp', 'Connection: Upgrade']));
  assert.equal(up.status, 101);
  assert.equal(up.text.slice(up.text.indexOf('\r\n\r\n') + 4), 'tty\r\n');

  // The client's detach keys (ctrl-x x): the stream ends, the process keeps running.
  const e3 = await exec({ Cmd: ['cat'], AttachStdin: true, AttachStdout: true, Tty: true });
  const body = JSON.stringify({ Tty: true });
  const conn = connect(d.socket);
  let text = '';
  conn.on('data', (c: Buffer) => {
    text += c.toString('latin1');
    if (text.includes('ping\r\n') && !text.includes('\x18')) conn.write('\x18x');
  });
  const ended = new Promise<string>((resolve) => {
    conn.on('end', () => resolve('ended'));
    setTimeout(() => resolve('timeout'), 10_000).unref();
  });
  conn.write(`POST /exec/${e3}/start?detachKeys=ctrl-x,x HTTP/1.1\r\nHost: b\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}ping\n`);
  assert.equal(await ended, 'ended', text);
  conn.destroy();
  assert.equal((await json('GET', `/exec/${e3}/json`)).body.Running, true);
  await json('DELETE', `/containers/${id}?force=1`);
});

test('docker load of gzip, bzip2 and xz archives; a corrupt one is refused', async () => {
  const tar = join(work, 'busybox-save.tar');
  await cli(['save', '-o', tar, 'busybox:latest']);
  for (const [tool, ext] of [['gzip', 'gz'], ['bzip2', 'bz2'], ['xz', 'xz']]) {
    execFileSync(tool, ['-kf', tar]);
    await cli(['tag', 'busybox:latest', 'busybox:keep']);
    await cli(['rmi', 'busybox:latest']);
    const r = await cli(['load', '-i', `${tar}.${ext}`]);
    assert.match(r.stdout, /Loaded image: busybox:latest/, tool);
    await cli(['rmi', 'busybox:keep']);
    rmSync(`${tar}.${ext}`);
  }
  execFileSync('xz', ['-kf', tar]);
  const good = readFileSync(`${tar}.xz`);
  // xz decodes some garbage before it notices corruption: its error, not the tar parser's
  // complaint about that garbage, is what the user must see, wherever the damage is.
  for (const [from, to] of [[64, 4096], [1024, 2048], [64, 65536], [8192, 9000]]) {
    const broken = Buffer.from(good);
    broken.fill(0x55, from, to);
    writeFileSync(`${tar}.xz`, broken);
    const r = await cli(['load', '-i', `${tar}.xz`], { expectCode: 'failure' });
    assert.match(r.stderr, /invalid archive: xz: .*(corrupt|format|xz)/i, `bytes ${from}-${to} overwritten`);
  }
});
