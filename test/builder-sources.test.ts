// Where docker build's files come from, with the real CLI: -f elsewhere in the context, a gzipped
// context on stdin, .dockerignore, a remote tarball URL (remote=, served on loopback), a git
// repository (a git daemon on loopback), ADD's archive unpacking and URLs, COPY --chown, -q.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { apiRequest, docker, type RunningDaemon } from './helpers/daemon.js';
import { withBusyboxDaemon } from './helpers/busybox.js';
import { build, withBuilderEnv, writeContext } from './helpers/build.js';
import { gitDaemon } from './helpers/git-daemon.js';

let d: RunningDaemon;
let work: string;
withBusyboxDaemon('berth-bldsrc-', (daemon, dir) => { d = daemon; work = dir; });

const context = (name: string, files: Record<string, string>) => writeContext(join(work, name), files);
const tarOf = (dir: string, gzip = false) => execFileSync('tar', [gzip ? '-czf' : '-cf', '-', '-C', dir, '.']);
const run = async (image: string, ...cmd: string[]) => (await docker(d.socket, ['run', '--rm', image, ...cmd])).stdout;

/** An HTTP server on loopback serving these paths, closed when the test ends. */
async function serve(t: TestContext, files: Record<string, { body: Buffer; headers?: Record<string, string> }>): Promise<string> {
  const server: Server = createServer((req, res) => {
    const f = files[req.url ?? ''];
    if (!f) { res.statusCode = 404; res.end(); return; }
    res.writeHead(200, { 'Content-Length': f.body.length, ...(f.headers ?? {}) });
    res.end(f.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('-f names a Dockerfile elsewhere in the context; .dockerignore keeps files out of COPY', async () => {
  const dir = context('ignore', {
    'build/app.Dockerfile': 'FROM busybox\nCOPY . /ctx/\nCMD ["ls", "-a", "/ctx"]\n',
    '.dockerignore': 'secret*\n*.log\n',
    'kept.txt': 'kept\n', 'secret.key': 'no\n', 'debug.log': 'no\n',
  });
  await build(d.socket, ['-f', join(dir, 'build/app.Dockerfile'), '-t', 'ignore:1', dir]);
  const listed = (await run('ignore:1')).split('\n').filter(Boolean).sort();
  assert.deepEqual(listed, ['.', '..', '.dockerignore', 'build', 'kept.txt']);
});

test('a gzipped context on stdin (docker build - < ctx.tar.gz); -q prints only the image ID', async () => {
  const dir = context('gz', { Dockerfile: 'FROM busybox\nCOPY hello.txt /\nCMD ["cat", "/hello.txt"]\n', 'hello.txt': 'from a gzipped context\n' });
  const r = await withBuilderEnv(true, () => new Promise<{ code: number | null; stdout: string }>((resolve) => {
    const p = spawn('docker', ['-H', `unix://${d.socket}`, 'build', '-q', '-t', 'gz:1', '-'], { env: { ...process.env, DOCKER_CONFIG: join(work, 'cfg') } });
    let stdout = '';
    p.stdout.on('data', (c) => (stdout += c));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout }); });
    p.stdin.end(tarOf(dir, true));
  }));
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal(await run('gz:1'), 'from a gzipped context\n');
});

test('remote=: a tarball URL on loopback; ADD of a URL (its Last-Modified as the mtime) and of a local tar (unpacked)', async (t) => {
  const payload = context('payload', { 'inner/a.txt': 'unpacked\n' });
  const modified = 'Wed, 21 Oct 2015 07:28:00 GMT';
  const dir = context('remote', {
    Dockerfile: `FROM busybox\nADD payload.tar /unpacked/\nADD URLBASE/file.txt /downloaded/\nCMD ["sh", "-c", "cat /unpacked/inner/a.txt /downloaded/file.txt"]\n`,
  });
  writeFileSync(join(dir, 'payload.tar'), tarOf(payload));
  const files: Record<string, { body: Buffer; headers?: Record<string, string> }> = {
    '/file.txt': { body: Buffer.from('downloaded\n'), headers: { 'Last-Modified': modified } },
  };
  const base = await serve(t, files);
  writeFileSync(join(dir, 'Dockerfile'), readFileSync(join(dir, 'Dockerfile'), 'utf8').replace('URLBASE', base));
  files['/ctx.tar'] = { body: tarOf(dir), headers: { 'Content-Type': 'application/octet-stream' } };
  const r = await apiRequest(d.socket, 'POST', `/v1.41/build?remote=${encodeURIComponent(`${base}/ctx.tar`)}&t=remote:1&cachefrom=[]&ulimits=null&networkmode=default&version=1`);
  assert.equal(r.status, 200, r.body);
  assert.match(r.body, /Successfully tagged remote:1/, r.body);
  assert.equal(await run('remote:1'), 'unpacked\ndownloaded\n');
  const mtime = await run('remote:1', 'busybox', 'stat', '-c', '%Y %a', '/downloaded/file.txt');
  assert.equal(mtime, `${Date.parse(modified) / 1000} 600\n`);
});

test('a git repository on loopback (git daemon), #ref:dir', async (t) => {
  const repo = context('repo', { 'sub/Dockerfile': 'FROM busybox\nCOPY v.txt /\nCMD ["cat", "/v.txt"]\n', 'sub/v.txt': 'v1\n' });
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { stdio: 'pipe' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-qm', 'one');
  git('tag', 'v1');
  writeFileSync(join(repo, 'sub/v.txt'), 'v2\n');
  git('commit', '-qam', 'two');
  const url = await gitDaemon(t, work);
  const r = await apiRequest(d.socket, 'POST', `/v1.41/build?remote=${encodeURIComponent(`${url}/repo#v1:sub`)}&t=git:1`);
  assert.match(r.body, /Successfully tagged git:1/, r.body);
  assert.equal(await run('git:1'), 'v1\n');
});

test('COPY --chown with numbers and with names from the image\'s /etc/passwd', async () => {
  const dir = context('chown', { Dockerfile: 'FROM busybox\nCOPY --chown=1234:2345 a.txt /a.txt\nCOPY --chown=root:root a.txt /b.txt\n', 'a.txt': 'a\n' });
  await build(d.socket, ['-t', 'chown:1', dir]);
  assert.equal(await run('chown:1', 'busybox', 'stat', '-c', '%u:%g', '/a.txt', '/b.txt'), '1234:2345\n0:0\n');
});

test('COPY of a folder: the files, their modes and owners, the folders it makes (0755) and those it goes into (their own mode kept), also with .dockerignore', async () => {
  for (const ignore of [false, true]) {
    const dir = context(`copytree-${ignore}`, {
      Dockerfile: 'FROM busybox\nRUN busybox mkdir -p /tmp /usr && busybox chmod 1777 /tmp\nCOPY --chown=7:8 tree/ /tmp/made/deeper/\nCOPY tree /usr/tree\nCOPY tree/top.txt tree/sub/b.txt /tmp/\n',
      ...(ignore ? { '.dockerignore': 'tree/sub/skip.txt\n' } : {}),
      'tree/top.txt': 'top\n', 'tree/sub/a.sh': 'echo a\n', 'tree/sub/b.txt': 'b\n', 'tree/sub/skip.txt': 'skip\n',
    });
    execFileSync('chmod', ['0750', join(dir, 'tree/sub')]);
    execFileSync('chmod', ['0755', join(dir, 'tree/sub/a.sh')]);
    const tag = `copytree:${ignore ? 'ignore' : 'all'}`;
    await build(d.socket, ['-t', tag, dir]);
    const listing = await run(tag, 'busybox', 'sh', '-c', 'busybox find /tmp /usr/tree | busybox sort | while read p; do if [ -d "$p" ]; then busybox stat -c "%n %a %u:%g dir" "$p"; else busybox stat -c "%n %a %u:%g %s" "$p"; fi; done');
    assert.equal(listing, [
      '/tmp 1777 0:0 dir', '/tmp/b.txt 644 0:0 2', '/tmp/made 755 0:0 dir', '/tmp/made/deeper 755 0:0 dir', '/tmp/made/deeper/sub 750 7:8 dir',
      '/tmp/made/deeper/sub/a.sh 755 7:8 7', '/tmp/made/deeper/sub/b.txt 644 7:8 2', ...(ignore ? [] : ['/tmp/made/deeper/sub/skip.txt 644 7:8 5']),
      '/tmp/made/deeper/top.txt 644 7:8 4', '/tmp/top.txt 644 0:0 4',
      '/usr/tree 755 0:0 dir', '/usr/tree/sub 750 0:0 dir', '/usr/tree/sub/a.sh 755 0:0 7', '/usr/tree/sub/b.txt 644 0:0 2',
      ...(ignore ? [] : ['/usr/tree/sub/skip.txt 644 0:0 5']), '/usr/tree/top.txt 644 0:0 4',
    ].join('\n') + '\n');
  }
});

test('what the classic builder cannot honour is refused with a 400 naming it', async () => {
  const body = tarOf(context('refused', { Dockerfile: 'FROM busybox\n' }));
  const post = (query: string) => apiRequest(d.socket, 'POST', `/v1.41/build?${query}`, body.toString('latin1'), { 'Content-Type': 'application/x-tar' });
  for (const [query, message] of [
    ['squash=1', /squash is only supported with experimental mode/],
    ['version=2', /BuildKit/],
    ['session=abc', /session/],
    ['outputs=%5B%7B%22Type%22%3A%22local%22%7D%5D', /outputs/],
    ['isolation=hyperv', /Unsupported isolation: "hyperv"/],
    ['platform=windows/amd64', /platform/],
  ] as const) {
    const r = await post(query);
    assert.equal(r.status, 400, `${query}: ${r.body}`);
    assert.match(JSON.parse(r.body).message, message);
  }
});

test('FROM an image of a registry that wants a login: pulled with the credentials of X-Registry-Config', async (t) => {
  const { startRegistry } = await import('./helpers/registry.js');
  const registry = await startRegistry({ htpasswd: { user: 'builder', password: 'secret-pw' } });
  t.after(() => registry.stop());
  const ref = `${registry.host}/private/busybox:1`;
  await docker(d.socket, ['login', registry.host, '-u', 'builder', '--password-stdin'], { input: 'secret-pw\n' });
  await docker(d.socket, ['tag', 'busybox', ref]);
  await docker(d.socket, ['push', ref], { timeoutMs: 60_000 });
  await docker(d.socket, ['rmi', ref]);
  const dir = context('private', { Dockerfile: `FROM ${ref}\nRUN echo pulled > /pulled\nCMD ["cat", "/pulled"]\n` });
  const r = await build(d.socket, ['-t', 'private:1', dir]);
  assert.match(r.stdout, /Step 1\/3 : FROM/);
  assert.equal(await run('private:1'), 'pulled\n');
  // Logged out, the same FROM (now gone from the store again) is refused by the registry.
  await docker(d.socket, ['rmi', 'private:1', ref]);
  await docker(d.socket, ['logout', registry.host]);
  const denied = await build(d.socket, ['--no-cache', dir], { expectCode: 'failure' });
  assert.match(denied.stderr, /unauthorized|authentication required|no basic auth credentials/i);
});

test('docker build -f- DIR: the Dockerfile from stdin, the context from DIR', async () => {
  const dir = context('stdin-df', { 'data.txt': 'from the context\n' });
  await build(d.socket, ['-f-', '-t', 'stdin-df:1', dir], { input: 'FROM busybox\nCOPY data.txt /\nCMD ["cat", "/data.txt"]\n' });
  assert.equal(await run('stdin-df:1'), 'from the context\n');
});

test('docker build - < Dockerfile (no context) and --compress', async () => {
  await build(d.socket, ['-t', 'stdin-only:1', '-'], { input: 'FROM busybox\nRUN echo alone > /alone\nCMD ["cat", "/alone"]\n' });
  const dir = context('compress', { Dockerfile: 'FROM busybox\nCOPY c.txt /\nCMD ["cat", "/c.txt"]\n', 'c.txt': 'compressed\n' });
  await build(d.socket, ['--compress', '-t', 'compress:1', dir]);
  assert.equal(await run('stdin-only:1'), 'alone\n');
  assert.equal(await run('compress:1'), 'compressed\n');
});
