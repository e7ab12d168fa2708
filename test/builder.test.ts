// docker build with the real CLI against Berth's classic builder (Builder-Version: 1): a
// single-stage build that runs, a rebuild from the cache with the same image ID, a change that
// rebuilds from its step on, and a failing RUN that leaves nothing behind.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { docker, type RunningDaemon } from './helpers/daemon.js';
import { withBusyboxDaemon } from './helpers/busybox.js';
import { build, writeContext } from './helpers/build.js';

let d: RunningDaemon;
let work: string;
withBusyboxDaemon('berth-builder-', (daemon, dir) => { d = daemon; work = dir; });

const context = (name: string, files: Record<string, string>) => writeContext(join(work, name), files);

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
  // As dockerd's: COPY writes into a layer, with no container to show.
  assert.match(first.stdout, /Step 4\/6 : COPY msg.txt \.\/\n ---> [0-9a-f]{12}\nStep 5\/6/);
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

test('multi-stage: ARG, COPY --from, LABEL, USER; --target, --build-arg, --label; unused stages skipped; the CLI without DOCKER_BUILDKIT', async () => {
  const dir = context('multi', {
    Dockerfile: [
      'ARG BASE=busybox',
      'FROM ${BASE} AS build',
      'ARG FLAVOUR=plain',
      'RUN mkdir -p /out && echo "flavour $FLAVOUR" > /out/result.txt',
      'FROM busybox AS unused',
      'RUN echo never > /never',
      'FROM busybox AS final',
      'LABEL org.example.stage=final',
      'COPY --from=build /out/result.txt /srv/',
      'COPY --from=build /out/*.txt /glob/',
      'USER 1000:1000',
      'CMD ["cat", "/srv/result.txt"]',
    ].join('\n'),
  });
  const r = await build(d.socket, ['--build-arg', 'FLAVOUR=spicy', '--build-arg', 'NOBODY=1', '--label', 'built.by=test', '-t', 'multi:1', dir], { legacy: false });
  assert.doesNotMatch(r.stdout, /RUN echo never/, 'the unused stage is skipped');
  assert.match(r.stdout, /\[Warning\] One or more build-args \[NOBODY\] were not consumed/);
  assert.equal((await docker(d.socket, ['run', '--rm', 'multi:1'])).stdout, 'flavour spicy\n');
  assert.equal((await docker(d.socket, ['run', '--rm', 'multi:1', 'cat', '/glob/result.txt'])).stdout, 'flavour spicy\n');
  const cfg = JSON.parse((await docker(d.socket, ['image', 'inspect', '--format', '{{json .Config}}', 'multi:1'])).stdout);
  assert.equal(cfg.User, '1000:1000');
  assert.equal(cfg.Labels['org.example.stage'], 'final');
  assert.equal(cfg.Labels['built.by'], 'test');
  const history = (await docker(d.socket, ['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'multi:1'])).stdout;
  assert.match(history, /#\(nop\)  LABEL built\.by=test/);

  // RUN with a build arg in effect: its history entry (and cache key) carries it, as dockerd's.
  const t = await build(d.socket, ['--build-arg', 'FLAVOUR=mild', '--target', 'build', '-t', 'multi:build', dir]);
  assert.doesNotMatch(t.stdout, /LABEL org.example.stage/, '--target stops at its stage');
  const h = (await docker(d.socket, ['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'multi:build'])).stdout.split('\n');
  assert.equal(h[0], '|1 FLAVOUR=mild /bin/sh -c mkdir -p /out && echo "flavour $FLAVOUR" > /out/result.txt');
  assert.equal(h[1], '/bin/sh -c #(nop)  ARG FLAVOUR=plain');
  const again = await build(d.socket, ['--build-arg', 'FLAVOUR=mild', '--target', 'build', '-t', 'multi:build', dir]);
  assert.equal((again.stdout.match(/Using cache/g) ?? []).length, 2, again.stdout);
  await docker(d.socket, ['image', 'inspect', 'multi:1'], {});
});

test('metadata instructions: ONBUILD, HEALTHCHECK, VOLUME, SHELL, EXPOSE, ENTRYPOINT, STOPSIGNAL as dockerd records them', async () => {
  const parent = context('onbuild-parent', {
    Dockerfile: ['FROM busybox', 'MAINTAINER someone@example.com', 'ONBUILD RUN echo triggered > /triggered', 'ONBUILD COPY note.txt /note.txt'].join('\n'),
  });
  await build(d.socket, ['-t', 'onbuild-parent:1', parent]);
  assert.equal((await docker(d.socket, ['image', 'inspect', '--format', '{{.Author}}', 'onbuild-parent:1'])).stdout, 'someone@example.com\n');
  const child = context('onbuild-child', {
    Dockerfile: [
      'FROM onbuild-parent:1',
      'SHELL ["/bin/sh", "-ec"]',
      'RUN echo "shell $0" > /shell.txt',
      'HEALTHCHECK --interval=5s --timeout=3s --retries=2 CMD true',
      'VOLUME /data',
      'EXPOSE 8080 53/udp',
      'STOPSIGNAL SIGINT',
      'ENTRYPOINT ["cat"]',
      'CMD ["/triggered", "/note.txt"]',
    ].join('\n'),
    'note.txt': 'note\n',
  });
  const r = await build(d.socket, ['-t', 'onbuild-child:1', child]);
  assert.match(r.stdout, /# Executing 2 build triggers/);
  assert.equal((await docker(d.socket, ['run', '--rm', 'onbuild-child:1'])).stdout, 'triggered\nnote\n');
  const cfg = JSON.parse((await docker(d.socket, ['image', 'inspect', '--format', '{{json .Config}}', 'onbuild-child:1'])).stdout);
  assert.deepEqual(cfg.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 5e9, Timeout: 3e9, Retries: 2 });
  assert.deepEqual(Object.keys(cfg.Volumes), ['/data']);
  assert.deepEqual(Object.keys(cfg.ExposedPorts).sort(), ['53/udp', '8080/tcp']);
  assert.equal(cfg.StopSignal, 'SIGINT');
  assert.deepEqual(cfg.Shell, ['/bin/sh', '-ec']);
  assert.ok(!cfg.OnBuild?.length, 'the triggers ran and are gone');
  const h = (await docker(d.socket, ['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'onbuild-child:1'])).stdout.split('\n');
  assert.equal(h[0], '/bin/sh -ec #(nop)  CMD ["/triggered" "/note.txt"]');
  assert.equal(h[1], '/bin/sh -ec #(nop)  ENTRYPOINT ["cat"]');
  assert.equal(h[3], '/bin/sh -ec #(nop)  EXPOSE 53/udp 8080', 'the parser sorts the ports, as dockerd');
  assert.equal(h[4], '/bin/sh -ec #(nop)  VOLUME [/data]');
  assert.equal(h[5], `/bin/sh -ec #(nop)  HEALTHCHECK &{["CMD-SHELL" "true"] "5s" "3s" "0s" '\\x02'}`);
  assert.equal(h[7], '/bin/sh -ec #(nop)  SHELL [/bin/sh -ec]');
  const parentHistory = (await docker(d.socket, ['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'onbuild-parent:1'])).stdout;
  assert.match(parentHistory, /#\(nop\)  ONBUILD COPY note.txt \/note.txt/);
});

test('docker system df counts the build cache; docker builder prune -f frees it', async () => {
  const dir = context('prune', { Dockerfile: 'FROM busybox\nRUN busybox dd if=/dev/zero of=/blob bs=1024 count=512 2>/dev/null\nENV X=1\n' });
  await build(d.socket, ['-t', 'prune:1', dir]);
  const cacheLine = async () => (await docker(d.socket, ['system', 'df', '--format', '{{.Type}} {{.TotalCount}} {{.Size}}'])).stdout.split('\n').find((l) => l.startsWith('Build Cache')) ?? '';
  const before = await cacheLine();
  assert.match(before, /^Build Cache [1-9]\d* /, before);
  const pruned = await docker(d.socket, ['builder', 'prune', '-f']);
  assert.match(pruned.stdout, /Total reclaimed space|Total:/);
  assert.match(await cacheLine(), /^Build Cache 0 0B$/);
  // The built image is intact, and a rebuild makes the cache again.
  assert.equal((await docker(d.socket, ['run', '--rm', 'prune:1', 'busybox', 'stat', '-c', '%s', '/blob'])).stdout, '524288\n');
  const again = await build(d.socket, ['-t', 'prune:1', dir]);
  assert.doesNotMatch(again.stdout, /Using cache\n ---> [0-9a-f]+\nStep 3/);
  const keep = await docker(d.socket, ['builder', 'prune', '-f', '--filter', 'until=1h']);
  assert.match(keep.stdout, /Total/);
  assert.match(await cacheLine(), /^Build Cache [1-9]/, 'until=1h keeps what is newer');
});

test('the stream as dockerd writes it: RUN stderr in red, errorDetail with the exit code, aux ID; --rm=false keeps the failed container', async () => {
  const { execFileSync } = await import('node:child_process');
  const dir = context('stream', { Dockerfile: 'FROM busybox\nRUN echo out && echo err >&2\nRUN exit 7\n' });
  const tar = execFileSync('tar', ['-cf', '-', '-C', dir, '.']);
  const { request } = await import('node:http');
  const body = await new Promise<string>((resolve, reject) => {
    const req = request({ socketPath: d.socket, method: 'POST', path: '/v1.41/build?rm=0', headers: { 'Content-Type': 'application/x-tar', 'Content-Length': tar.length } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end(tar);
  });
  const messages = body.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(messages.some((m) => m.stream === 'out\n'), body);
  assert.ok(messages.some((m) => m.stream === '\u001b[91merr\n\u001b[0m'), body);
  const last = messages.at(-1);
  assert.deepEqual(last, { errorDetail: { code: 7, message: "The command '/bin/sh -c exit 7' returned a non-zero code: 7" }, error: "The command '/bin/sh -c exit 7' returned a non-zero code: 7" });
  // rm=0: the failed step's container stays, as dockerd leaves it; the successful one's too.
  const left = (await docker(d.socket, ['ps', '-aq'])).stdout.trim().split('\n').filter(Boolean);
  assert.equal(left.length, 2);
  await docker(d.socket, ['rm', ...left]);
});

test('BuildKit-only flags are refused with the classic builder\'s message; --memory and --ulimit reach RUN', async () => {
  const mount = context('mount', { Dockerfile: 'FROM busybox\nRUN --mount=type=cache,target=/c true\n' });
  const r = await build(d.socket, [mount], { expectCode: 'failure' });
  assert.match(r.stderr, /the --mount option requires BuildKit/);
  const mem = context('memory', { Dockerfile: 'FROM busybox\nRUN (cat /sys/fs/cgroup/memory.max || cat /sys/fs/cgroup/memory/memory.limit_in_bytes) > /memory.max 2>/dev/null\n' });
  await build(d.socket, ['--memory', '64m', '-t', 'memory:1', mem]);
  assert.equal((await docker(d.socket, ['run', '--rm', 'memory:1', 'cat', '/memory.max'])).stdout, `${64 * 1024 * 1024}\n`);
  const ulimit = context('ulimit', { Dockerfile: 'FROM busybox\nRUN echo "$(ulimit -Sn) $(ulimit -Hn)" > /nofile\n' });
  await build(d.socket, ['--ulimit', 'nofile=1024:2048', '-t', 'ulimit:1', ulimit]);
  assert.equal((await docker(d.socket, ['run', '--rm', 'ulimit:1', 'cat', '/nofile'])).stdout, '1024 2048\n');
});

test('--cache-from: an image with no local parents (saved and loaded) serves every step by its history', async () => {
  const dir = context('cachefrom', { Dockerfile: 'FROM busybox\nENV A=1\nRUN echo built > /built\nCMD ["cat", "/built"]\n', 'unused.txt': 'x' });
  const first = await build(d.socket, ['-t', 'cachefrom:src', dir]);
  const id = imageId(first.stdout);
  const archive = join(work, 'cachefrom.tar');
  await docker(d.socket, ['save', '-o', archive, 'cachefrom:src']);
  await docker(d.socket, ['rmi', 'cachefrom:src']);
  await docker(d.socket, ['load', '-i', archive]);
  const again = await build(d.socket, ['--cache-from', 'cachefrom:src', '-t', 'cachefrom:new', dir]);
  assert.equal((again.stdout.match(/Using cache/g) ?? []).length, 3, again.stdout);
  // As dockerd's: the cached steps are images remade from the source's history, not the source itself.
  assert.ok(id);
  assert.equal((await docker(d.socket, ['run', '--rm', 'cachefrom:new'])).stdout, 'built\n');
});

test('done-when: a multi-stage ARG/RUN/COPY/COPY --from/WORKDIR/ENV/LABEL/USER/CMD build, plain and DOCKER_BUILDKIT=0: it runs, rebuilds from the cache to the same ID, and a changed file rebuilds from its COPY on', async () => {
  const dir = context('done-when', {
    Dockerfile: [
      'ARG VERSION=1.0',
      'FROM busybox AS compile',
      'ARG VERSION',
      'WORKDIR /src',
      'COPY src/ ./',
      'RUN cat a.txt b.txt > joined.txt && echo "version $VERSION" >> joined.txt',
      'FROM busybox',
      'ENV GREETING="hi there"',
      'LABEL stage=final',
      'WORKDIR /app',
      'COPY --from=compile /src/joined.txt ./',
      'COPY notes.txt ./',
      'USER 1000',
      'CMD ["sh", "-c", "echo $GREETING; cat joined.txt notes.txt; id -u"]',
    ].join('\n'),
    'src/a.txt': 'a\n', 'src/b.txt': 'b\n', 'notes.txt': 'notes v1\n',
  });
  const plain = await build(d.socket, ['-t', 'done:1', dir], { legacy: false });
  const id = imageId(plain.stdout);
  assert.equal((await docker(d.socket, ['run', '--rm', 'done:1'])).stdout, 'hi there\na\nb\nversion 1.0\nnotes v1\n1000\n');
  const steps = (plain.stdout.match(/^Step \d+\/(\d+)/m) ?? [])[1];
  assert.equal(steps, '14');
  const legacy = await build(d.socket, ['-t', 'done:1', dir]);
  // Every step but the meta ARG and the two FROMs (11 of 14) comes from the cache; the same image.
  assert.equal((legacy.stdout.match(/Using cache/g) ?? []).length, 11, legacy.stdout);
  assert.equal(imageId(legacy.stdout), id);
  writeFileSync(join(dir, 'notes.txt'), 'notes v2\n');
  const changed = await build(d.socket, ['-t', 'done:2', dir]);
  // Up to the COPY of notes.txt from the cache, from there on rebuilt.
  assert.match(changed.stdout, /Step 12\/14 : COPY notes.txt \.\/\n ---> [0-9a-f]{12}\n/);
  assert.match(changed.stdout, /Step 11\/14 : COPY --from=compile \/src\/joined.txt \.\/\n ---> Using cache/);
  assert.match(changed.stdout, /Step 13\/14 : USER 1000\n ---> Running in/);
  assert.equal((await docker(d.socket, ['run', '--rm', 'done:2'])).stdout, 'hi there\na\nb\nversion 1.0\nnotes v2\n1000\n');
});

test('predefined proxy build args reach RUN without an ARG and stay out of the history and the warning', async () => {
  const dir = context('proxy', { Dockerfile: 'FROM busybox\nRUN echo "$HTTP_PROXY" > /proxy\n' });
  const r = await build(d.socket, ['--build-arg', 'HTTP_PROXY=http://proxy.invalid:3128', '-t', 'proxy:1', dir]);
  assert.doesNotMatch(r.stdout, /were not consumed/);
  assert.equal((await docker(d.socket, ['run', '--rm', 'proxy:1', 'cat', '/proxy'])).stdout, 'http://proxy.invalid:3128\n');
  const h = (await docker(d.socket, ['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'proxy:1'])).stdout.split('\n');
  assert.equal(h[0], '/bin/sh -c echo "$HTTP_PROXY" > /proxy');
});
