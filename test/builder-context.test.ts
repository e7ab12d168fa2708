// Build contexts: the request body (plain, gzip, bzip2, xz), remote tarballs and Dockerfiles served
// on loopback, git repositories from a `git daemon` on loopback, .dockerignore, the Dockerfile's
// location and dockerd's errors, the content hash for the cache.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  ContentHasher, openContext, PatternMatcher, readIgnoreFile, isGitURL, parseGitURL, type BuildContext, type OpenContextOptions,
} from '../plugins/builder/context/index.js';
import { buildTar, type TarSpec } from './helpers/tar-build.js';
import { gitDaemon } from './helpers/git-daemon.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-buildctx-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function open(t: TestContext, opts: Omit<OpenContextOptions, 'tmpDir'>): Promise<BuildContext> {
  const ctx = await openContext({ tmpDir: tempDir(t), timeoutMs: 20_000, ...opts });
  t.after(() => ctx.cleanup());
  return ctx;
}

const body = (buf: Buffer) => Readable.from([buf]);
const files = (entries: Record<string, string>): TarSpec[] => Object.entries(entries).map(([name, data]) => ({ name, data, mode: 0o644 }));
const compress = (tool: 'bzip2' | 'xz', buf: Buffer) => execFileSync(`/usr/bin/${tool}`, ['-c'], { input: buf });
const refusedWith = (message: string | RegExp) => (err: Error & { code?: string }) => {
  if (typeof message === 'string') assert.equal(err.message, message);
  else assert.match(err.message, message);
  return true;
};

const SIMPLE = buildTar(files({ Dockerfile: 'FROM busybox\nCOPY . /app\n', 'app/main.sh': 'echo hi\n' }));

test('a tar context, plain or gzip, bzip2 or xz compressed, is recognised by its bytes and extracted', async (t) => {
  for (const [kind, data] of [
    ['plain', SIMPLE], ['gzip', gzipSync(SIMPLE)], ['bzip2', compress('bzip2', SIMPLE)], ['xz', compress('xz', SIMPLE)],
  ] as const) {
    const ctx = await open(t, { body: body(data) });
    assert.equal(readFileSync(join(ctx.dir, 'app/main.sh'), 'utf8'), 'echo hi\n', kind);
    assert.equal(await ctx.readDockerfile(), 'FROM busybox\nCOPY . /app\n', kind);
    assert.equal(ctx.dockerfileName, 'Dockerfile');
    assert.equal(ctx.source, 'body');
  }
});

test('a context archive that writes outside its folder is refused and leaves nothing behind', async (t) => {
  const tmp = tempDir(t);
  for (const evil of [
    [{ name: '../escape', data: 'x' }],
    [{ name: 'link', type: 'symlink', linkname: '/tmp' }, { name: 'link/escape', data: 'x' }],
    [{ name: '/abs/../../escape', data: 'x' }],
  ] as TarSpec[][]) {
    const tar = buildTar([{ name: 'Dockerfile', data: 'FROM a\n' }, ...evil]);
    await assert.rejects(openContext({ tmpDir: tmp, body: body(tar) }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'E_INVALID');
      assert.match(err.message, /^invalid build context: entry ".*escape": (path escapes the layer|parent "link" is a symlink)/);
      return true;
    });
  }
  assert.equal(existsSync(join(tmp, '../escape')) && readFileSync(join(tmp, '../escape'), 'utf8') === 'x', false);
  assert.equal(existsSync('/tmp/escape') && readFileSync('/tmp/escape', 'utf8') === 'x', false);
  assert.deepEqual(readdir(tmp), [], 'the failed contexts were removed');
});

function readdir(dir: string): string[] {
  return execFileSync('ls', ['-A', dir]).toString().split('\n').filter(Boolean);
}

test('a context over the configured size is refused while it streams, compressed or not', async (t) => {
  const big = buildTar([{ name: 'Dockerfile', data: 'FROM a\n' }, { name: 'big', data: Buffer.alloc(4 << 20) }]);
  const tmp = tempDir(t);
  for (const data of [big, gzipSync(big), compress('xz', big)]) {
    await assert.rejects(openContext({ tmpDir: tmp, body: body(data), maxContextBytes: 1 << 20 }),
      refusedWith('the build context is larger than the limit of 1048576 bytes'));
  }
  assert.deepEqual(readdir(tmp), []);
  const ctx = await open(t, { body: body(gzipSync(big)), maxContextBytes: 8 << 20 });
  assert.equal(readFileSync(join(ctx.dir, 'big')).length, 4 << 20);
});

test('whiteout names in a context are ordinary files, not deletions', async (t) => {
  const ctx = await open(t, { body: body(buildTar(files({ Dockerfile: 'FROM a\n', keep: 'k', '.wh.keep': 'w' }))) });
  assert.equal(readFileSync(join(ctx.dir, 'keep'), 'utf8'), 'k');
  assert.equal(readFileSync(join(ctx.dir, '.wh.keep'), 'utf8'), 'w');
});

test('the dockerfile parameter: nested, absolute from the context root, lower-case default, and dockerd\'s errors', async (t) => {
  const tar = buildTar(files({ 'build/Dockerfile.dev': 'FROM dev\n', dockerfile: 'FROM lower\n', 'other/x': '' }));
  assert.equal(await (await open(t, { body: body(tar), dockerfile: 'build/Dockerfile.dev' })).readDockerfile(), 'FROM dev\n');
  assert.equal(await (await open(t, { body: body(tar), dockerfile: '/build/Dockerfile.dev' })).readDockerfile(), 'FROM dev\n');
  assert.equal(await (await open(t, { body: body(tar), dockerfile: './build//Dockerfile.dev' })).readDockerfile(), 'FROM dev\n');
  const lower = await open(t, { body: body(tar) });
  assert.equal(await lower.readDockerfile(), 'FROM lower\n', 'Dockerfile falls back to dockerfile');
  assert.equal(lower.dockerfileName, 'dockerfile');
  const tmp = tempDir(t);
  await assert.rejects(openContext({ tmpDir: tmp, body: body(tar), dockerfile: 'nope/Dockerfile' }),
    refusedWith('Cannot locate specified Dockerfile: nope/Dockerfile'));
  await assert.rejects(openContext({ tmpDir: tmp, body: body(tar), dockerfile: '../Dockerfile' }),
    refusedWith('The Dockerfile (../Dockerfile) must be within the build context'));
  await assert.rejects(openContext({ tmpDir: tmp, body: body(tar), dockerfile: 'build/../../x/Dockerfile' }),
    refusedWith('The Dockerfile (build/../../x/Dockerfile) must be within the build context'));
  await assert.rejects(openContext({ tmpDir: tmp, body: body(buildTar(files({ x: '' }))) }),
    refusedWith('Cannot locate specified Dockerfile: Dockerfile'));
  const empty = await open(t, { body: body(buildTar(files({ Dockerfile: '' }))) });
  await assert.rejects(empty.readDockerfile(), refusedWith('the Dockerfile (Dockerfile) cannot be empty'));
  const escaping = buildTar([{ name: 'Dockerfile', type: 'symlink', linkname: '../../../../etc/passwd' }, { name: 'etc/passwd', data: 'FROM inside\n' }]);
  assert.equal(await (await open(t, { body: body(escaping) })).readDockerfile(), 'FROM inside\n', 'a symlinked Dockerfile resolves inside the context');
  assert.deepEqual(readdir(tmp), []);
});

test('docker build -f- .: the CLI\'s stdin Dockerfile (.dockerfile.<random>, listed in .dockerignore) is read and kept out of the context', async (t) => {
  // What the docker CLI sends: the context tar with the stdin Dockerfile added under a random
  // name, and that name appended to .dockerignore so that it is not part of the context.
  const name = '.dockerfile.0123456789abcdef0123';
  const tar = buildTar(files({ [name]: 'FROM stdin\n', '.dockerignore': '*.log\n\n' + name + '\n', 'a.txt': 'a', 'b.log': 'b' }));
  const ctx = await open(t, { body: body(tar), dockerfile: name });
  assert.equal(await ctx.readDockerfile(), 'FROM stdin\n');
  assert.deepEqual(readdir(ctx.dir).sort(), ['.dockerignore', 'a.txt'], 'the Dockerfile and ignored files are not in the context');
});

test('.dockerignore: dockerd\'s pattern rules', () => {
  const m = (patterns: string[]) => new PatternMatcher(readIgnoreFile(patterns.join('\n')));
  const cases: [string[], string, boolean][] = [
    [['*.md'], 'README.md', true],
    [['*.md'], 'docs/README.md', false],
    [['**/*.md'], 'docs/a/README.md', true],
    [['**/*.md'], 'README.md', true],
    [['docs'], 'docs/a/b.txt', true],
    [['docs/'], 'docs/a', true],
    [['/docs'], 'docs/a', true],
    [['./docs/../docs'], 'docs', true],
    [['docs/**'], 'docs/x/y', true],
    [['temp?'], 'temp1', true],
    [['temp?'], 'temp12', false],
    [['*', '!keep'], 'keep', false],
    [['*', '!keep'], 'other', true],
    [['*.go', '!main.go'], 'main.go', false],
    [['*.go', '!main.go', 'main.go'], 'main.go', true],
    [['dir', '!dir/keep'], 'dir/keep', false],
    [['dir', '!dir/keep'], 'dir/drop', true],
    [['a.b'], 'axb', false],
    [['[ab].txt'], 'b.txt', true],
    [['\\*x'], '*x', true],
    [['\\*x'], 'ax', false],
    [['**'], 'anything/at/all', true],
    [['a/**/b'], 'a/b', true],
    [['a/**/b'], 'a/x/y/b', true],
  ];
  for (const [patterns, path, want] of cases) assert.equal(m(patterns).matches(path), want, `${JSON.stringify(patterns)} ${path}`);
  assert.deepEqual(readIgnoreFile('\uFEFF# comment\n  *.log  \n\n!/keep.log\n/abs/path/\n ./x/../y\n!\n#x\n'), ['*.log', '!keep.log', 'abs/path', 'y', '!']);
  assert.throws(() => new PatternMatcher(['!']), /illegal exclusion pattern: "!"/);
});

test('.dockerignore is honoured in the context; ! re-includes inside an ignored folder; an ignored Dockerfile is still read', async (t) => {
  const tar = buildTar(files({
    Dockerfile: 'FROM a\n',
    '.dockerignore': 'Dockerfile\n.dockerignore\nlogs\nnode_modules\n!node_modules/keep\n**/*.tmp\n',
    'logs/a.log': 'a', 'node_modules/drop/x': 'x', 'node_modules/keep/y': 'y', 'src/main.c': 'c', 'src/deep/t.tmp': 't',
  }));
  const ctx = await open(t, { body: body(tar) });
  assert.equal(await ctx.readDockerfile(), 'FROM a\n');
  assert.deepEqual(readdir(ctx.dir).sort(), ['node_modules', 'src']);
  assert.deepEqual(readdir(join(ctx.dir, 'node_modules')), ['keep']);
  assert.deepEqual(readdir(join(ctx.dir, 'src')).sort(), ['deep', 'main.c']);
  assert.deepEqual(readdir(join(ctx.dir, 'src/deep')), [], 'a folder that is not ignored stays, emptied of its ignored files (as the CLI sends it)');
  assert.equal(ctx.dockerignore.matches('logs/b.log'), true);
  assert.equal(ctx.dockerignore.matches('src/main.c'), false);
});

test('the content hash: content, mode, owner, names and link targets count; times do not; trees are deterministic', async (t) => {
  const spec = (over: Partial<Record<string, Partial<TarSpec>>> = {}): Buffer => buildTar([
    { name: 'Dockerfile', data: 'FROM a\n' },
    { name: 'dir/', type: 'dir', mode: 0o755, mtime: 1 },
    { name: 'dir/a', data: 'A', mode: 0o644, mtime: 1, ...over.a },
    { name: 'dir/b', data: 'B', mode: 0o644, mtime: 1, ...over.b },
    { name: 'dir/l', type: 'symlink', linkname: 'a', ...over.l },
  ]);
  const hashes = async (tar: Buffer) => {
    const ctx = await open(t, { body: body(tar) });
    return { dir: await ctx.hashPath('dir'), a: await ctx.hashPath('dir/a'), l: await ctx.hashPath('./dir/l'), root: await ctx.hashPath('.') };
  };
  const base = await hashes(spec());
  assert.match(base.a, /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(await hashes(spec({ a: { mtime: 999 } })), base, 'mtime is not part of the hash');
  assert.deepEqual(await hashes(spec()), base, 'deterministic');
  const changed = async (over: Partial<Record<string, Partial<TarSpec>>>, key: 'a' | 'l') => {
    const h = await hashes(spec(over));
    assert.notEqual(h.dir, base.dir, JSON.stringify(over));
    assert.notEqual(h[key], base[key], JSON.stringify(over));
  };
  await changed({ a: { data: 'changed' } }, 'a');
  await changed({ a: { mode: 0o755 } }, 'a');
  await changed({ a: { uid: 1000 } }, 'a');
  await changed({ l: { linkname: 'b' } }, 'l');
  const renamed = await hashes(buildTar([
    { name: 'Dockerfile', data: 'FROM a\n' }, { name: 'dir/', type: 'dir', mode: 0o755 },
    { name: 'dir/a', data: 'A', mode: 0o644 }, { name: 'dir/c', data: 'B', mode: 0o644 }, { name: 'dir/l', type: 'symlink', linkname: 'a' },
  ]));
  assert.notEqual(renamed.dir, base.dir, 'names count');
  const ctx = await open(t, { body: body(spec()) });
  await assert.rejects(ctx.hashPath('missing'), (err: Error & { code?: string }) => err.code === 'E_NOT_FOUND');
});

test('a lazy context (a build\'s) answers from its archive as the extracted one does, and extracts the same tree when asked', async (t) => {
  const tar = buildTar([
    { name: 'Dockerfile', data: 'FROM a\nCOPY . /app\n', mode: 0o644 },
    { name: '.dockerignore', data: 'Dockerfile\nlogs\nnode_modules\n!node_modules/keep\n**/*.tmp\n', mode: 0o600 },
    { name: 'logs/', type: 'dir', mode: 0o755 }, { name: 'logs/a.log', data: 'a' },
    { name: 'node_modules/', type: 'dir', mode: 0o750, uid: 7, gid: 8 },
    { name: 'node_modules/drop/', type: 'dir', mode: 0o755 }, { name: 'node_modules/drop/x', data: 'x' },
    { name: 'node_modules/keep/', type: 'dir', mode: 0o700 }, { name: 'node_modules/keep/y', data: 'y', mode: 0o4755, uid: 1000, gid: 50 },
    { name: 'src/', type: 'dir', mode: 0o2775 }, { name: 'src/main.c', data: 'c'.repeat(5000), mode: 0o640 },
    { name: 'src/deep/', type: 'dir', mode: 0o755 }, { name: 'src/deep/t.tmp', data: 't' },
  ]);
  const paths = ['.', 'src', 'src/main.c', './src/deep', 'node_modules', 'node_modules/keep/y', '.dockerignore'];
  const eager = await open(t, { body: body(gzipSync(tar)) });
  const lazy = await open(t, { body: body(gzipSync(tar)), lazy: true });
  assert.ok(lazy.indexed, 'a plain archive is indexed');
  assert.equal(await lazy.readDockerfile(), await eager.readDockerfile());
  assert.equal(lazy.indexed.kind('src'), 'dir');
  assert.equal(lazy.indexed.kind('src/main.c'), 'file');
  assert.equal(lazy.indexed.kind('logs'), undefined, 'ignored');
  assert.equal(lazy.indexed.kind('Dockerfile'), undefined, 'an ignored Dockerfile is read, not in the context');
  assert.equal(readdir(lazy.dir).length, 0, 'nothing extracted before files()');
  for (const p of paths) assert.equal(await lazy.hashPath(p), await eager.hashPath(p), p);
  await assert.rejects(lazy.hashPath('logs'), (err: Error & { code?: string }) => err.code === 'E_NOT_FOUND');
  assert.equal(await lazy.files(), lazy.dir);
  const tree = (dir: string): string[] => execFileSync('find', ['.', '-printf', '%p %y %m %U %G %s\n'], { cwd: dir, encoding: 'utf8' }).split('\n').filter(Boolean).sort();
  assert.deepEqual(tree(lazy.dir), tree(eager.dir));
  for (const p of paths) assert.equal(await new ContentHasher(lazy.dir).hashPath(p), await eager.hashPath(p), `${p} on disk`);
  // An archive with a symlink (or a file before its folder) is not indexed: extracted at once.
  const linked = await open(t, { body: body(buildTar([{ name: 'Dockerfile', data: 'FROM a\n' }, { name: 'l', type: 'symlink', linkname: 'Dockerfile' }])), lazy: true });
  assert.equal(linked.indexed, undefined);
  assert.deepEqual(readdir(linked.dir).sort(), ['Dockerfile', 'l']);
  const implicit = await open(t, { body: body(SIMPLE), lazy: true });
  assert.equal(implicit.indexed, undefined);
  assert.equal(readFileSync(join(implicit.dir, 'app/main.sh'), 'utf8'), 'echo hi\n');
});

async function serve(t: TestContext, routes: Record<string, { type: string; data: Buffer | string; status?: number }>): Promise<string> {
  const server: Server = createServer((req, res) => {
    const r = routes[req.url ?? ''];
    if (!r) { res.writeHead(404, { 'content-type': 'text/plain' }); res.end('no such thing'); return; }
    if (r.status === 302) { res.writeHead(302, { location: String(r.data) }); res.end(); return; }
    res.writeHead(r.status ?? 200, { 'content-type': r.type });
    res.end(r.data);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('remote=: a tarball URL (whatever its Content-Type) and a plain Dockerfile URL, served on loopback', async (t) => {
  const url = await serve(t, {
    '/ctx.tar.gz': { type: 'application/octet-stream', data: gzipSync(SIMPLE) },
    '/ctx.tar': { type: 'text/plain', data: SIMPLE },
    '/Dockerfile': { type: 'text/plain', data: 'FROM busybox\nRUN true\n' },
    '/moved': { type: '', data: '/ctx.tar.gz', status: 302 },
    '/ignored.tar': { type: 'application/x-tar', data: buildTar(files({ Dockerfile: 'FROM a\n', '.dockerignore': 'secret\n', secret: 's', kept: 'k' })) },
  });
  for (const path of ['/ctx.tar.gz', '/ctx.tar', '/moved']) {
    const ctx = await open(t, { remote: url + path });
    assert.equal(ctx.source, 'url-tar', path);
    assert.equal(readFileSync(join(ctx.dir, 'app/main.sh'), 'utf8'), 'echo hi\n', path);
  }
  const df = await open(t, { remote: `${url}/Dockerfile`, dockerfile: 'ignored/for/plain' });
  assert.equal(df.source, 'url-dockerfile');
  assert.equal(await df.readDockerfile(), 'FROM busybox\nRUN true\n');
  assert.deepEqual(readdir(df.dir), ['Dockerfile'], 'a context holding only that Dockerfile');
  const ignored = await open(t, { remote: `${url}/ignored.tar` });
  assert.deepEqual(readdir(ignored.dir).sort(), ['.dockerignore', 'Dockerfile', 'kept'], '.dockerignore honoured for a remote context');
  const tmp = tempDir(t);
  await assert.rejects(openContext({ tmpDir: tmp, remote: `${url}/missing.tar` }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'E_NOT_FOUND');
    assert.match(err.message, /^error downloading remote context http:\/\/127\.0\.0\.1:\d+\/missing\.tar: failed to GET http:\/\/127\.0\.0\.1:\d+\/missing\.tar with status 404 Not Found: no such thing$/);
    return true;
  });
  await assert.rejects(openContext({ tmpDir: tmp, remote: 'ftp://example/x' }), refusedWith('remoteURL (ftp://example/x) could not be recognized as URL'));
  await assert.rejects(openContext({ tmpDir: tmp, remote: 'client-session' }), /session with v1 builder is no longer supported/);
  assert.deepEqual(readdir(tmp), []);
});

test('which remote= values are git repositories, and the #ref:dir fragment', () => {
  for (const url of ['git://host/repo', 'git@github.com:a/b.git', 'https://host/a/b.git', 'https://host/a/b.git#main:sub', 'github.com/a/b']) {
    assert.equal(isGitURL(url), true, url);
  }
  for (const url of ['https://host/a/b.tar', 'http://host/Dockerfile', 'https://host/a.git/x']) assert.equal(isGitURL(url), false, url);
  assert.deepEqual(parseGitURL('git://127.0.0.1/repo.git#v1:sub/dir'), { remote: 'git://127.0.0.1/repo.git', ref: 'v1', subdir: 'sub/dir' });
  assert.deepEqual(parseGitURL('github.com/a/b'), { remote: 'https://github.com/a/b', ref: 'master', subdir: '' });
  assert.deepEqual(parseGitURL('git@host:a/b.git#:dir'), { remote: 'git@host:a/b.git', ref: 'master', subdir: 'dir' });
  assert.throws(() => parseGitURL('git://h/r#-x'), /invalid refspec: -x/);
});

test('remote=git://… from a git daemon on loopback: a shallow fetch of #ref, the :dir subfolder as the context', async (t) => {
  const base = tempDir(t);
  const work = join(base, 'repo');
  mkdirSync(join(work, 'sub/inner'), { recursive: true });
  const git = (...args: string[]) => execFileSync('git', ['-C', work, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { stdio: 'pipe' });
  git('init', '-q', '-b', 'master');
  writeFileSync(join(work, 'Dockerfile'), 'FROM master\n');
  writeFileSync(join(work, 'sub/Dockerfile'), 'FROM sub-v1\n');
  writeFileSync(join(work, 'sub/inner/file'), 'v1\n');
  writeFileSync(join(work, 'sub/.dockerignore'), 'secret\n');
  writeFileSync(join(work, 'sub/secret'), 's\n');
  symlinkSync('../..', join(work, 'sub/up'));
  git('add', '-A');
  git('commit', '-qm', 'one');
  git('tag', 'v1');
  writeFileSync(join(work, 'sub/inner/file'), 'v2\n');
  git('commit', '-qam', 'two');
  const url = await gitDaemon(t, base);

  const tagged = await open(t, { remote: `${url}/repo#v1:sub` });
  assert.equal(tagged.source, 'git');
  assert.equal(await tagged.readDockerfile(), 'FROM sub-v1\n');
  assert.equal(readFileSync(join(tagged.dir, 'inner/file'), 'utf8'), 'v1\n', 'the tag, not the branch head');
  assert.equal(existsSync(join(tagged.dir, 'secret')), false, '.dockerignore honoured');

  const head = await open(t, { remote: `${url}/repo` });
  assert.equal(await head.readDockerfile(), 'FROM master\n');
  assert.equal(readFileSync(join(head.dir, 'sub/inner/file'), 'utf8'), 'v2\n');
  assert.equal(execFileSync('git', ['-C', head.dir, 'rev-list', '--count', 'HEAD']).toString().trim(), '1', 'a shallow fetch');

  const tmp = tempDir(t);
  await assert.rejects(openContext({ tmpDir: tmp, remote: `${url}/repo#nosuchref` }), refusedWith(/^error fetching: .*nosuchref/s));
  await assert.rejects(openContext({ tmpDir: tmp, remote: `${url}/repo#master:nodir` }), /error setting git context, "nodir" not within git root/);
  await assert.rejects(openContext({ tmpDir: tmp, remote: `${url}/repo#master:Dockerfile` }), /error setting git context, not a directory: Dockerfile/);
  const up = await open(t, { remote: `${url}/repo#master:sub/up` });
  assert.equal(await up.readDockerfile(), 'FROM master\n', 'a symlinked subdir resolves inside the checkout, never outside');
  assert.deepEqual(readdir(tmp), []);
});
