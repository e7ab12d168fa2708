// dockerode (npm) against Berth: the calls its users make, back to back without sleeps, racy ones
// repeated, checked against dockerd's behaviour. dockerode sends attach and exec start without an
// Upgrade header unless asked to hijack: dockerd hijacks the connection all the same.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import Docker from 'dockerode';
import { makeTempDir, type RunningDaemon, startDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';
import { poll } from './helpers/poll.js';
import { buildTar } from './helpers/tar-build.js';

let d: RunningDaemon;
let work: string;
let docker: Docker;
before(async () => {
  work = makeTempDir('berth-dockerode-');
  d = await startDaemon();
  await importBusybox(d.socket, work);
  docker = new Docker({ socketPath: d.socket, timeout: 60_000 });
});
after(async () => {
  await removeAllContainers(d.socket);
  await d?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

/** Everything a stream gives until its end. */
async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream as Readable) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts);
}

/** A writable that keeps what it is given, as process.stdout would print it. */
function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const parts: Buffer[] = [];
  stream.on('data', (c: Buffer) => parts.push(c));
  return { stream, text: () => Buffer.concat(parts).toString() };
}

test('docker.run(image, cmd, stdout) prints the output and returns the exit code, 20 times with AutoRemove', async () => {
  for (let i = 0; i < 20; i++) {
    const out = sink();
    const [result] = await docker.run('busybox', ['sh', '-c', `echo run ${i}; exit ${i % 4}`], out.stream, { HostConfig: { AutoRemove: true } }) as [{ StatusCode: number }, unknown];
    assert.equal(result.StatusCode, i % 4);
    // One output stream means a terminal for dockerode (Tty: true): the terminal's CR LF.
    assert.equal(out.text(), `run ${i}\r\n`);
  }
  // AutoRemove: each container goes once its exit is reported.
  const left = await poll(async () => ((await docker.listContainers({ all: true })).length === 0 ? 'none' : ''), { timeoutMs: 10_000 });
  assert.equal(left, 'none', 'AutoRemove removed every container');
});

test('docker.run with [stdout, stderr] and no TTY demultiplexes the two streams', async () => {
  const out = sink();
  const err = sink();
  const [result, container] = await docker.run('busybox', ['sh', '-c', 'echo o; echo e >&2; exit 5'], [out.stream, err.stream], { Tty: false }) as [{ StatusCode: number }, Docker.Container];
  assert.equal(result.StatusCode, 5);
  assert.equal(out.text(), 'o\n');
  assert.equal(err.text(), 'e\n');
  await container.remove();
});

test('exec.start: hijacked and demultiplexed, TTY without hijack (raw), and Detach (returns, the process runs)', async () => {
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '60'] });
  await c.start();
  try {
    const ex = await c.exec({ Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 6'], AttachStdout: true, AttachStderr: true });
    const stream = await ex.start({ hijack: true, stdin: false });
    const stdout = sink();
    const stderr = sink();
    docker.modem.demuxStream(stream, stdout.stream, stderr.stream);
    await new Promise((resolve) => stream.on('end', resolve));
    assert.equal(stdout.text(), 'out\n');
    assert.equal(stderr.text(), 'err\n');
    assert.equal((await ex.inspect()).ExitCode, 6);

    // No Upgrade header: dockerd answers 200 with the raw stream; on a TTY no frame headers.
    const tty = await c.exec({ Cmd: ['sh', '-c', 'echo one; echo two'], AttachStdout: true, AttachStderr: true, Tty: true });
    assert.equal((await collect(await tty.start({ hijack: false, Tty: true }))).toString('latin1'), 'one\r\ntwo\r\n');

    const plain = await c.exec({ Cmd: ['sh', '-c', 'echo framed'], AttachStdout: true, AttachStderr: true });
    const framed = await collect(await plain.start({ hijack: false }));
    assert.deepEqual([...framed.subarray(0, 8)], [1, 0, 0, 0, 0, 0, 0, 7], 'stdout frame of 7 bytes');
    assert.equal(framed.subarray(8).toString(), 'framed\n');

    const detached = await c.exec({ Cmd: ['sh', '-c', 'echo $$ > /tmp/pid; exec sleep 30'] });
    const started = Date.now();
    const answer = await detached.start({ Detach: true }) as unknown as NodeJS.ReadableStream;
    await collect(answer);
    assert.ok(Date.now() - started < 5000, 'a detached exec answers at once');
    const info = await detached.inspect();
    assert.equal(info.Running, true);
    assert.ok(info.Pid > 0, 'its pid is known');
    const probe = await c.exec({ Cmd: ['sh', '-c', 'kill -0 $(cat /tmp/pid) && echo alive'], AttachStdout: true });
    const alive = await poll(async () => (await collect(await probe.start({ hijack: false }))).subarray(8).toString().trim() || '', { maxTries: 1 });
    assert.equal(alive, 'alive');
  } finally {
    await c.remove({ force: true });
  }
});

test('kill then inspect, 20 times back to back: exited, 137', async () => {
  for (let i = 0; i < 20; i++) {
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '60'] });
    await c.start();
    await c.kill();
    const state = (await c.inspect()).State;
    assert.equal(state.Status, 'exited', `round ${i}`);
    assert.equal(state.ExitCode, 137, `round ${i}`);
    assert.equal(state.Running, false, `round ${i}`);
    await c.remove();
  }
});

test('attach without hijack (dockerode\'s default) streams the output; wait gives the exit code', async () => {
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo attached; echo e >&2; exit 2'] });
  const stream = await c.attach({ stream: true, stdout: true, stderr: true });
  const stdout = sink();
  const stderr = sink();
  c.modem.demuxStream(stream, stdout.stream, stderr.stream);
  const ended = new Promise((resolve) => stream.on('end', resolve));
  await c.start();
  assert.deepEqual(await c.wait(), { StatusCode: 2, Error: null });
  await ended;
  assert.equal(stdout.text(), 'attached\n');
  assert.equal(stderr.text(), 'e\n');
  await c.remove();
});

test('attach with hijack and stdin: the input reaches the process', async () => {
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'read l; echo got $l'], OpenStdin: true, StdinOnce: true });
  const stream = await c.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true }) as unknown as NodeJS.ReadWriteStream;
  const out = sink();
  c.modem.demuxStream(stream, out.stream, out.stream);
  const ended = new Promise((resolve) => stream.on('end', resolve));
  await c.start();
  stream.write('hello\n');
  assert.deepEqual(await c.wait(), { StatusCode: 0, Error: null });
  await ended;
  assert.equal(out.text(), 'got hello\n');
  await c.remove();
});

test('putArchive then getArchive', async () => {
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['true'] });
  try {
    await c.putArchive(buildTar([{ name: 'note.txt', data: 'from dockerode\n', mode: 0o600 }]), { path: '/tmp' });
    const tar = await collect(await c.getArchive({ path: '/tmp/note.txt' }));
    assert.equal(tar.subarray(0, 8).toString().replace(/\0.*/, ''), 'note.txt');
    assert.equal(tar.subarray(512, 512 + 15).toString(), 'from dockerode\n');
    const stat = await c.infoArchive({ path: '/tmp/note.txt' }) as unknown as { headers: Record<string, string> };
    const info = JSON.parse(Buffer.from(stat.headers['x-docker-container-path-stat'], 'base64').toString());
    assert.equal(info.size, 15);
    assert.equal(info.mode & 0o777, 0o600);
  } finally {
    await c.remove();
  }
});

test('image get (save), loadImage and history', async () => {
  const saved = await collect(await docker.getImage('busybox:latest').get());
  assert.equal(saved.subarray(257, 262).toString(), 'ustar');
  await docker.getImage('busybox:latest').tag({ repo: 'busybox', tag: 'dockerode' });
  await docker.getImage('busybox:dockerode').remove();
  const load = await docker.loadImage(Readable.from([saved]));
  assert.match((await collect(load)).toString(), /Loaded image: busybox:latest/);
  const history = await docker.getImage('busybox:latest').history() as { Id: string }[];
  assert.equal(history[0].Id, (await docker.getImage('busybox:latest').inspect()).Id);
});

test('getEvents between since and until, and pruneContainers', async () => {
  const since = Math.floor(Date.now() / 1000);
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['true'] });
  await c.start();
  await c.wait();
  const events = await collect(await docker.getEvents({ since, until: Math.floor(Date.now() / 1000) + 1, filters: { container: [c.id] } }) as unknown as Readable);
  const actions = events.toString().trim().split('\n').map((l) => JSON.parse(l).Action);
  assert.deepEqual(actions, ['create', 'start', 'die']);
  const pruned = await docker.pruneContainers();
  assert.deepEqual(pruned.ContainersDeleted, [c.id]);
  assert.equal(typeof pruned.SpaceReclaimed, 'number');
});
