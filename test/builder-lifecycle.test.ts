// A build's life beyond the happy path: a client that goes away cancels its build and its
// container goes; builds at the same time are independent; a daemon killed (-9) mid-build leaves
// no build container and no half-recorded image after it restarts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { docker, makeTempDir, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';
import { build, writeContext } from './helpers/build.js';
import { poll } from './helpers/poll.js';

const work = makeTempDir('berth-bldlife-');
const daemons: RunningDaemon[] = [];
after(async () => {
  for (const d of daemons) {
    if (!d.hasExited()) await removeAllContainers(d.socket);
    await d.cleanup();
  }
  rmSync(work, { recursive: true, force: true });
});

const context = (name: string, files: Record<string, string>) => writeContext(join(work, name), files);

/** POST /build of a context folder; resolves once `seen` appears in the output, with the request to end it. */
function startBuild(socket: string, dir: string, seen: RegExp): Promise<{ abort: () => void; output: () => string }> {
  const tar = execFileSync('tar', ['-cf', '-', '-C', dir, '.']);
  return new Promise((resolve, reject) => {
    let out = '';
    const req = request({ socketPath: socket, method: 'POST', path: '/v1.41/build?t=cancelled:1', headers: { 'Content-Type': 'application/x-tar', 'Content-Length': tar.length } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (c) => {
        out += c;
        if (seen.test(out)) resolve({ abort: () => req.destroy(), output: () => out });
      });
      res.on('error', () => {});
    });
    req.on('error', () => {});
    const timer = setTimeout(() => { req.destroy(); reject(new Error(`no ${seen} in 30 s: ${out}`)); }, 30_000);
    timer.unref();
    req.end(tar);
  });
}

const psAll = async (socket: string) => (await docker(socket, ['ps', '-aq'])).stdout.trim();

test('a client that goes away cancels its build: the RUN container is killed and removed, nothing is tagged', async () => {
  const d = await startDaemon();
  daemons.push(d);
  await importBusybox(d.socket, join(work, 'img'));
  const dir = context('cancel', { Dockerfile: 'FROM busybox\nRUN echo sta\'\'rted && sleep 60\n' });
  const b = await startBuild(d.socket, dir, /started/);
  const during = await docker(d.socket, ['ps', '-a']);
  assert.match(during.stdout, /\bUp\b/, `the RUN container is there while it runs: ${during.stdout} ${b.output()}`);
  b.abort();
  await poll(async () => (await psAll(d.socket)) === '', { maxTries: 50, intervalMs: 200 });
  assert.equal(await psAll(d.socket), '');
  await docker(d.socket, ['image', 'inspect', 'cancelled:1'], { expectCode: 'failure' });
});

test('builds at the same time are independent', async () => {
  const d = daemons[0];
  const dirs = [0, 1, 2].map((n) => context(`concurrent-${n}`, {
    Dockerfile: `FROM busybox\nCOPY n.txt /n.txt\nRUN sleep 0.5 && echo "built $(cat /n.txt)" > /out.txt\nCMD ["cat", "/out.txt"]\n`,
    'n.txt': String(n),
  }));
  // Twice the same Dockerfile too: both finish, each with a working image.
  const results = await Promise.all([...dirs, dirs[0]].map((dir, k) => build(d.socket, ['-t', `concurrent:${k}`, dir])));
  for (const r of results) assert.match(r.stdout, /Successfully built/);
  for (const [k, n] of [[0, 0], [1, 1], [2, 2], [3, 0]]) {
    assert.equal((await docker(d.socket, ['run', '--rm', `concurrent:${k}`])).stdout, `built ${n}\n`);
  }
  assert.equal(await psAll(d.socket), '');
});

test('kill -9 mid-build: after the restart no build container is left and every image is whole', async () => {
  const d = await startDaemon();
  daemons.push(d);
  await importBusybox(d.socket, join(work, 'img'));
  const dir = context('killed', { Dockerfile: 'FROM busybox\nRUN echo layer > /one\nRUN echo sta\'\'rted && sleep 60\n' });
  await startBuild(d.socket, dir, /started/);
  d.proc.kill('SIGKILL');
  await d.exited;
  const again = await startDaemon({ dir: d.dir });
  daemons.push(again);
  await poll(async () => (await psAll(again.socket)) === '', { maxTries: 50, intervalMs: 200 });
  assert.equal(await psAll(again.socket), '', 'the interrupted build\'s container is gone');
  for (const id of (await docker(again.socket, ['images', '-aq'])).stdout.trim().split('\n').filter(Boolean)) {
    await docker(again.socket, ['history', id]);
  }
  // The step that finished before the kill still serves the next build from the cache.
  const first = context('killed-first', { Dockerfile: 'FROM busybox\nRUN echo layer > /one\n' });
  assert.match((await build(again.socket, ['-t', 'killed:1', first])).stdout, /Using cache/);
});
