// docker build with the real CLI against Berth's classic builder (Builder-Version: 1): a
// single-stage build that runs, a rebuild from the cache with the same image ID, a change that
// rebuilds from its step on, and a failing RUN that leaves nothing behind.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { docker, type RunningDaemon } from './helpers/daemon.js';
import { withBusyboxDaemon } from './helpers/busybox.js';

let d: RunningDaemon;
let work: string;
withBusyboxDaemon('berth-builder-', (daemon, dir) => { d = daemon; work = dir; });

/** docker build of `dir` with the legacy builder forced (DOCKER_BUILDKIT=0) or as the CLI picks it. */
export async function build(socket: string, args: string[], opts: { legacy?: boolean; expectCode?: number | 'failure' } = {}) {
  const before = process.env.DOCKER_BUILDKIT;
  if (opts.legacy !== false) process.env.DOCKER_BUILDKIT = '0';
  else delete process.env.DOCKER_BUILDKIT;
  try {
    return await docker(socket, ['build', ...args], { timeoutMs: 120_000, ...(opts.expectCode !== undefined ? { expectCode: opts.expectCode } : {}) });
  } finally {
    if (before === undefined) delete process.env.DOCKER_BUILDKIT;
    else process.env.DOCKER_BUILDKIT = before;
  }
}

function context(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const imageId = (out: string) => /Successfully built ([0-9a-f]{12})/.exec(out)?.[1];

test('a single-stage build runs, rebuilds from the cache with the same ID, and rebuilds from a changed COPY on', async () => {
  const dir = context('single', {
    Dockerfile: [
      'FROM busybox',
      'ENV GREETING=hello',
      'WORKDIR /app',
      'COPY msg.txt ./',
      'RUN echo "$GREETING from run" > ran.txt && echo to-stderr >&2',
      'CMD ["sh", "-c", "cat /app/msg.txt /app/ran.txt; pwd"]',
    ].join('\n'),
    'msg.txt': 'copied\n',
  });
  const first = await build(d.socket, ['-t', 'built:1', dir]);
  assert.match(first.stdout, /Step 1\/6 : FROM busybox/);
  assert.match(first.stdout, / ---> Running in [0-9a-f]{12}/);
  assert.match(first.stdout, /Removing intermediate container/);
  assert.match(first.stdout, /Successfully tagged built:1/);
  const id = imageId(first.stdout);
  assert.ok(id, first.stdout);
  const run = await docker(d.socket, ['run', '--rm', 'built:1']);
  assert.equal(run.stdout, 'copied\nhello from run\n/app\n');

  const again = await build(d.socket, ['-t', 'built:1', dir]);
  assert.equal((again.stdout.match(/Using cache/g) ?? []).length, 5, again.stdout);
  assert.equal(imageId(again.stdout), id);

  writeFileSync(join(dir, 'msg.txt'), 'changed\n');
  const changed = await build(d.socket, ['-t', 'built:2', dir]);
  assert.equal((changed.stdout.match(/Using cache/g) ?? []).length, 2, changed.stdout);
  assert.notEqual(imageId(changed.stdout), id);
  assert.equal((await docker(d.socket, ['run', '--rm', 'built:2'])).stdout, 'changed\nhello from run\n/app\n');

  const history = await docker(d.socket, ['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'built:1']);
  const lines = history.stdout.trim().split('\n');
  assert.equal(lines[0], '/bin/sh -c #(nop)  CMD ["sh" "-c" "cat /app/msg.txt /app/ran.txt; pwd"]');
  assert.equal(lines[1], '/bin/sh -c echo "$GREETING from run" > ran.txt && echo to-stderr >&2');
  assert.match(lines[2], /^\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in \/app\/ $/);
  assert.equal(lines[3], '/bin/sh -c #(nop) WORKDIR /app');
  assert.equal(lines[4], '/bin/sh -c #(nop)  ENV GREETING=hello');
});

test('a failing RUN exits non-zero with the classic message and leaves no container and no image', async () => {
  const dir = context('failing', { Dockerfile: 'FROM busybox\nRUN echo partial > /x\nRUN exit 3\n' });
  const imagesBefore = (await docker(d.socket, ['images', '-aq'])).stdout.trim().split('\n').filter(Boolean).length;
  const r = await build(d.socket, ['-t', 'failing:1', dir], { expectCode: 'failure' });
  assert.match(r.stderr, /The command '\/bin\/sh -c exit 3' returned a non-zero code: 3/);
  assert.equal((await docker(d.socket, ['ps', '-aq'])).stdout.trim(), '');
  const imagesAfter = (await docker(d.socket, ['images', '-aq'])).stdout.trim().split('\n').filter(Boolean).length;
  // The first RUN's step image is cache (as dockerd keeps it); no image is tagged failing:1.
  assert.ok(imagesAfter <= imagesBefore + 1);
  await docker(d.socket, ['image', 'inspect', 'failing:1'], { expectCode: 'failure' });
});
