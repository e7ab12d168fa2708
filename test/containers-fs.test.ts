// A container's files with the real CLI: docker cp both ways (running and stopped containers,
// symlink escapes refused), docker diff, docker export and docker commit.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { apiRequest, docker, type DockerOptions, makeTempDir, type RunningDaemon, startDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';
import { buildTar } from './helpers/tar-build.js';
import { poll } from './helpers/poll.js';

const CONTAINER_PASSWD = 'root:x:0:0:root:/root:/bin/sh\n';
const HOST_ETC_PROBE = `berth-fs-test-${process.pid}`;

let d: RunningDaemon;
let work: string;
/** A host folder no container may read or write: its listing and content are checked after every attempt. */
let sentinel: string;
before(async () => {
  work = makeTempDir('berth-fs-');
  sentinel = join(work, 'sentinel');
  mkdirSync(sentinel);
  writeFileSync(join(sentinel, 'secret'), 'host secret\n');
  d = await startDaemon();
  await importBusybox(d.socket, work);
});
after(async () => {
  await removeAllContainers(d.socket);
  await d?.cleanup();
  rmSync(work, { recursive: true, force: true });
  rmSync(join('/etc', HOST_ETC_PROBE), { force: true });
});

const run = (args: string[], opts: DockerOptions = {}) => docker(d.socket, args, { timeoutMs: 60_000, ...opts });
const ok = async (args: string[]) => {
  const r = await run(args);
  return r.stdout;
};
const assertSentinelUntouched = () => {
  assert.deepEqual(readdirSync(sentinel), ['secret']);
  assert.equal(readFileSync(join(sentinel, 'secret'), 'utf8'), 'host secret\n');
};
const mountsOf = (id: string) => readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(id));
/** The CLI is done once it has read the tar's end, a moment before the daemon releases the mount. */
const unmountedSoon = async (id: string) => {
  await poll(() => mountsOf(id).length === 0, { maxTries: 50, intervalMs: 100 });
  return mountsOf(id);
};

/** PUT /containers/{id}/archive with a raw tar body (apiRequest sends text). */
function putArchive(container: string, path: string, tar: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      socketPath: d.socket, method: 'PUT', path: `/containers/${container}/archive?path=${encodeURIComponent(path)}`,
      headers: { 'Content-Type': 'application/x-tar', 'Content-Length': tar.length }, timeout: 10_000,
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('PUT archive timed out')));
    req.on('error', reject);
    req.end(tar);
  });
}

test('docker cp into and out of a running container keeps content and mode', async () => {
  await ok(['run', '-d', '--name', 'cp-run', 'busybox', 'sleep', '300']);
  const src = join(work, 'in.txt');
  writeFileSync(src, 'hello cp\n');
  chmodSync(src, 0o751);
  await ok(['cp', src, 'cp-run:/tmp/in.txt']);
  assert.equal(await ok(['exec', 'cp-run', 'cat', '/tmp/in.txt']), 'hello cp\n', 'the running container sees the file (and is not left frozen)');
  assert.equal((await ok(['exec', 'cp-run', 'busybox', 'stat', '-c', '%a', '/tmp/in.txt'])).trim(), '751');
  await ok(['exec', 'cp-run', 'sh', '-c', 'echo made inside > /tmp/made; busybox chmod 640 /tmp/made']);
  const out = join(work, 'made-out');
  await ok(['cp', 'cp-run:/tmp/made', out]);
  assert.equal(readFileSync(out, 'utf8'), 'made inside\n');
  assert.equal(statSync(out).mode & 0o777, 0o640);
  // A folder, and a folder's content with "/.".
  mkdirSync(join(work, 'tree/sub'), { recursive: true });
  writeFileSync(join(work, 'tree/sub/f'), 'deep\n');
  await ok(['cp', join(work, 'tree'), 'cp-run:/tmp/']);
  assert.equal(await ok(['exec', 'cp-run', 'cat', '/tmp/tree/sub/f']), 'deep\n');
  await ok(['cp', 'cp-run:/tmp/tree/.', join(work, 'tree-back')]);
  assert.equal(readFileSync(join(work, 'tree-back/sub/f'), 'utf8'), 'deep\n');
  const state = JSON.parse(await ok(['inspect', 'cp-run']))[0].State;
  assert.equal(state.Status, 'running');
});

test('docker cp into and out of a stopped container, its file system unmounted afterwards', async () => {
  const id = (await ok(['create', '--name', 'cp-stopped', 'busybox', 'cat', '/tmp/in.txt'])).trim();
  const src = join(work, 'stopped-in.txt');
  writeFileSync(src, 'into a created container\n');
  chmodSync(src, 0o604);
  await ok(['cp', src, 'cp-stopped:/tmp/in.txt']);
  assert.deepEqual(mountsOf(id), [], 'nothing left mounted after copying into a stopped container');
  assert.equal(await ok(['start', '-a', 'cp-stopped']), 'into a created container\n');
  assert.equal((await ok(['wait', 'cp-stopped'])).trim(), '0');
  const out = join(work, 'stopped-out.txt');
  await ok(['cp', 'cp-stopped:/tmp/in.txt', out]);
  assert.equal(readFileSync(out, 'utf8'), 'into a created container\n');
  assert.equal(statSync(out).mode & 0o777, 0o604);
  assert.deepEqual(await unmountedSoon(id), [], 'nothing left mounted after copying out of an exited container');
});

test('docker cp of a missing path says so, as dockerd', async () => {
  await ok(['create', '--name', 'cp-missing', 'busybox']);
  const r = await run(['cp', 'cp-missing:/nope', join(work, 'nope')], { expectCode: 1 });
  assert.match(r.stderr, /Error response from daemon: Could not find the file \/nope in container cp-missing/);
  const head = await apiRequest(d.socket, 'HEAD', '/containers/cp-missing/archive?path=/nope');
  assert.equal(head.status, 404);
  const empty = await apiRequest(d.socket, 'GET', '/containers/cp-missing/archive?path=');
  assert.equal(empty.status, 400);
});

test('symlinks in the container never lead docker cp outside it, reading or writing', async () => {
  await ok(['run', '-d', '--name', 'cp-evil', 'busybox', 'sleep', '300']);
  for (const [target, link] of [['/../../../../etc', '/tmp/evil'], ['/', '/tmp/root'], [`/../../../..${sentinel}`, '/tmp/host']]) {
    await ok(['exec', 'cp-evil', 'busybox', 'ln', '-s', target, link]);
  }
  // Reading: the container's own /etc, never the host's, and no way to the sentinel.
  await ok(['cp', 'cp-evil:/tmp/evil/passwd', join(work, 'evil-passwd')]);
  assert.equal(readFileSync(join(work, 'evil-passwd'), 'utf8'), CONTAINER_PASSWD);
  for (const path of ['/tmp/host/secret', `/tmp/root${sentinel}/secret`, `/tmp/evil/../..${sentinel}/secret`]) {
    const r = await run(['cp', `cp-evil:${path}`, join(work, 'stolen')], { expectCode: 1 });
    assert.match(r.stderr, /Could not find the file/);
    assert.equal(existsSync(join(work, 'stolen')), false);
  }
  // The link itself is what docker cp copies (without -L); -L follows it inside the container.
  const stat = await apiRequest(d.socket, 'HEAD', '/containers/cp-evil/archive?path=/tmp/evil');
  const header = JSON.parse(Buffer.from(String(stat.headers['x-docker-container-path-stat']), 'base64').toString());
  assert.equal(header.linkTarget, '/etc');
  assert.equal(header.mode, 2 ** 27 + 0o777, 'Go os.ModeSymlink');
  await ok(['cp', '-L', 'cp-evil:/tmp/evil', join(work, 'evil-L')]);
  assert.equal(readFileSync(join(work, 'evil-L/passwd'), 'utf8'), CONTAINER_PASSWD);
  // Writing: into the container's /etc through the link, never the host's; the sentinel stays as it was.
  const src = join(work, HOST_ETC_PROBE);
  writeFileSync(src, 'probe\n');
  await ok(['cp', src, 'cp-evil:/tmp/evil/']);
  assert.equal(await ok(['exec', 'cp-evil', 'cat', `/etc/${HOST_ETC_PROBE}`]), 'probe\n');
  assert.equal(existsSync(join('/etc', HOST_ETC_PROBE)), false, 'nothing written to the host /etc');
  for (const dest of ['/tmp/host/', `/tmp/root${sentinel}/`]) {
    await run(['cp', src, `cp-evil:${dest}`], { expectCode: 'failure' });
  }
  assertSentinelUntouched();
});

test('archive paths with ".." stay in the container; a tar with escaping entries is refused', async () => {
  await ok(['run', '-d', '--name', 'cp-dots', 'busybox', 'sleep', '300']);
  const r = await apiRequest(d.socket, 'GET', '/containers/cp-dots/archive?path=../../../etc/passwd');
  assert.equal(r.status, 200);
  assert.ok(r.body.includes(CONTAINER_PASSWD), 'the container\'s /etc/passwd');
  assert.ok(!r.body.includes('daemon:'), 'not the host\'s');
  const up = `../../../../../../../../../..${sentinel}`;
  for (const entries of [
    [{ name: `${up}/pwned`, data: 'x' }],
    [{ name: 'ok-dir/../../pwned', data: 'x' }],
    [{ name: 'link', type: 'symlink', linkname: sentinel }, { name: 'link/pwned', data: 'x' }],
    [{ name: 'hard', type: 'link', linkname: `${up}/secret` }],
  ]) {
    const put = await putArchive('cp-dots', '/tmp', buildTar(entries));
    assert.equal(put.status, 400, `${JSON.stringify(entries)}: ${put.body}`);
    assert.match(JSON.parse(put.body).message, /escapes|symlink/);
  }
  assertSentinelUntouched();
  assert.equal((await putArchive('cp-dots', '/tmp/nowhere', buildTar([{ name: 'f', data: 'x' }]))).status, 404);
});

test('docker cp honours --read-only and bind mounts (read-write and read-only)', async () => {
  const vol = join(work, 'vol');
  const rovol = join(work, 'rovol');
  mkdirSync(vol);
  mkdirSync(rovol);
  writeFileSync(join(vol, 'from-host'), 'host side\n');
  await ok(['run', '-d', '--name', 'cp-ro', '--read-only', '-v', `${vol}:/data`, '-v', `${rovol}:/ro:ro`, 'busybox', 'sleep', '300']);
  const src = join(work, 'small');
  writeFileSync(src, 'small\n');
  const rootfs = await run(['cp', src, 'cp-ro:/tmp/'], { expectCode: 1 });
  assert.match(rootfs.stderr, /Error response from daemon: container rootfs is marked read-only/);
  const ro = await run(['cp', src, 'cp-ro:/ro/'], { expectCode: 'failure' });
  assert.match(ro.stderr, /Error response from daemon: mounted volume is marked read-only/);
  assert.deepEqual(readdirSync(rovol), []);
  await ok(['cp', src, 'cp-ro:/data/']);
  assert.equal(readFileSync(join(vol, 'small'), 'utf8'), 'small\n');
  await ok(['cp', 'cp-ro:/data/from-host', join(work, 'from-host')]);
  assert.equal(readFileSync(join(work, 'from-host'), 'utf8'), 'host side\n');
});

test('docker diff lists what the container added, changed and deleted (not the runtime\'s mount points)', async () => {
  await ok(['run', '-d', '--name', 'fs-diff', 'busybox', 'sleep', '300']);
  await ok(['exec', 'fs-diff', 'sh', '-c', 'echo x > /x; echo y > /tmp/y; busybox rm /etc/group']);
  const lines = (await ok(['diff', 'fs-diff'])).trim().split('\n');
  for (const line of ['A /x', 'C /tmp', 'A /tmp/y', 'C /etc', 'D /etc/group']) assert.ok(lines.includes(line), `${line} in ${lines.join(', ')}`);
  for (const hidden of ['/proc', '/sys', '/dev', '/etc/hosts', '/etc/hostname', '/etc/resolv.conf']) {
    assert.ok(!lines.some((l) => l.slice(2) === hidden), `${hidden} not shown`);
  }
  assert.equal(lines.length, 5, lines.join(', '));
});

test('docker export writes the whole file system as a tar', async () => {
  await ok(['run', '-d', '--name', 'fs-export', 'busybox', 'sleep', '300']);
  await ok(['exec', 'fs-export', 'sh', '-c', 'echo e > /exported; busybox rm /etc/group']);
  const out = join(work, 'export.tar');
  await ok(['export', '-o', out, 'fs-export']);
  const names = execFileSync('tar', ['-tf', out]).toString().trim().split('\n');
  for (const name of ['exported', 'bin/busybox', 'bin/sh', 'etc/passwd', 'tmp/']) assert.ok(names.includes(name), `${name} in the export`);
  assert.ok(!names.includes('etc/group'), 'a deleted file is not exported');
  assert.equal(execFileSync('tar', ['-xOf', out, 'exported']).toString(), 'e\n');
});

test('docker commit makes an image of the container\'s changes, with -c and -m', async () => {
  await ok(['run', '-d', '--name', 'fs-commit', 'busybox', 'sleep', '300']);
  await ok(['exec', 'fs-commit', 'sh', '-c', 'echo committed > /file; busybox rm /etc/group']);
  const id = (await ok(['commit', '-m', 'my commit', '-c', 'CMD ["echo","c"]', 'fs-commit', 'committed:1'])).trim();
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  assert.equal(await ok(['run', '--rm', 'committed:1']), 'c\n');
  assert.equal(await ok(['run', '--rm', 'committed:1', 'cat', '/file']), 'committed\n');
  await run(['run', '--rm', 'committed:1', 'cat', '/etc/group'], { expectCode: 'failure' });
  // the deletion is committed too
  const history = (await ok(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', 'committed:1'])).trim().split('\n');
  assert.equal(history[0], 'sleep 300|my commit');
  const state = JSON.parse(await ok(['inspect', 'fs-commit']))[0].State;
  assert.equal(state.Status, 'running', 'unpaused after the commit');
  // A stopped container, with a tag given apart and no changes: same layers, config from the container.
  await ok(['stop', '-t', '0', 'fs-commit']);
  await ok(['commit', 'fs-commit', 'committed:2']);
  assert.equal(await ok(['run', '--rm', 'committed:2', 'cat', '/file']), 'committed\n');
  const config = JSON.parse(await ok(['image', 'inspect', 'committed:2']))[0].Config;
  assert.deepEqual(config.Cmd, ['sleep', '300']);
});
