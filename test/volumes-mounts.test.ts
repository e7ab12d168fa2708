// Every way a container gets a mount, with the real docker CLI and real mounts: -v named, anonymous
// and bind (a missing host path made), image VOLUME entries, --mount bind|volume|tmpfs, --tmpfs,
// --volumes-from; copy-up from the image (owner, mode, xattrs, links kept; not with nocopy, not
// into a non-empty volume); Mounts in inspect and ps; ps --filter volume=; rm -v; docker cp
// through a volume; commit and export leaving volumes out; df and volume prune; events; refusals.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { apiRequest, docker, type DockerOptions, makeTempDir, type RunningDaemon, startDaemon } from './helpers/daemon.js';
import { removeAllContainers } from './helpers/busybox.js';
import { makeBusyboxRootfs } from './helpers/rootfs.js';

let d: RunningDaemon;
let work: string;
const run = (args: string[], opts: DockerOptions = {}) => docker(d.socket, args, { timeoutMs: 60_000, ...opts });
const out = async (args: string[]) => (await run(args)).stdout.trim();
const fails = async (args: string[]) => (await run(args, { expectCode: 'failure' })).stderr;
const inspectMounts = async (id: string) => JSON.parse(await out(['inspect', '--format', '{{json .Mounts}}', id])) as Record<string, unknown>[];

before(async () => {
  work = makeTempDir('berth-volmounts-');
  d = await startDaemon();
  // busybox with an /app folder: a file owned by 1000:1000 mode 0640 with an xattr, a link, a
  // private subfolder; imported twice, plain and with VOLUME /app.
  const rootfs = makeBusyboxRootfs(work);
  const root = join(work, 'rootfs');
  mkdirSync(join(root, 'app/private'), { recursive: true });
  writeFileSync(join(root, 'app/f'), 'from the image\n');
  symlinkSync('f', join(root, 'app/link'));
  execFileSync('chown', ['1000:1000', join(root, 'app/f')]);
  execFileSync('chmod', ['0640', join(root, 'app/f')]);
  execFileSync('chmod', ['0700', join(root, 'app/private')]);
  execFileSync('chmod', ['0751', join(root, 'app')]);
  execFileSync('setfattr', ['-n', 'user.berth', '-v', 'kept', join(root, 'app/f')]);
  const tar = join(work, 'app.tar');
  execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-C', root, '-cf', tar, '.']);
  await run(['import', '-c', 'CMD ["sh"]', rootfs.path, 'busybox:latest']);
  await run(['import', '-c', 'CMD ["sh"]', tar, 'app:plain']);
  await run(['import', '-c', 'CMD ["sh"]', '-c', 'VOLUME ["/app"]', tar, 'app:vol']);
});
after(async () => {
  if (d) {
    await removeAllContainers(d.socket);
    await d.cleanup();
  }
  rmSync(work, { recursive: true, force: true });
});

test('-v /anon makes an anonymous volume shown in inspect and ps; rm -v removes it, rm alone keeps it', async () => {
  const id = await out(['run', '-d', '-v', '/anon', 'busybox', 'sleep', '60']);
  const [m] = await inspectMounts(id);
  assert.equal(m.Type, 'volume');
  assert.match(m.Name as string, /^[0-9a-f]{64}$/);
  assert.equal(m.Source, join(d.dataRoot, 'volumes', m.Name as string, '_data'));
  assert.equal(m.Destination, '/anon');
  assert.equal(m.Driver, 'local');
  assert.equal(m.RW, true);
  assert.equal(await out(['ps', '--filter', `volume=${m.Name}`, '--format', '{{.ID}}']), id.slice(0, 12));
  assert.equal(await out(['ps', '--filter', 'volume=/anon', '--format', '{{.ID}}']), id.slice(0, 12));
  assert.equal(await out(['ps', '--filter', 'volume=/elsewhere', '--format', '{{.ID}}']), '');
  const ps = JSON.parse((await apiRequest(d.socket, 'GET', '/containers/json')).body) as { Id: string; Mounts: unknown[] }[];
  assert.equal(ps.find((c) => c.Id === id)?.Mounts.length, 1);
  await run(['rm', '-f', '-v', id]);
  assert.match(await fails(['volume', 'inspect', m.Name as string]), /no such volume/i);

  const kept = await out(['create', '-v', '/anon', 'busybox', 'true']);
  const [k] = await inspectMounts(kept);
  await run(['rm', kept]);
  assert.equal(await out(['volume', 'inspect', '--format', '{{.Name}}', k.Name as string]), k.Name);
  await run(['volume', 'rm', k.Name as string]);
  // --rm takes its anonymous volumes along, as dockerd.
  const before = await out(['volume', 'ls', '-q']);
  await run(['run', '--rm', '-v', '/tmpanon', 'busybox', 'true']);
  assert.equal(await out(['volume', 'ls', '-q']), before);
});

test('copy-up: an image folder fills a new volume with owner, mode, xattrs and links; not with nocopy, not into a non-empty volume', async () => {
  const ls = 'busybox ls -ln /app; busybox stat -c "%a %u:%g" /app /app/f /app/private; busybox readlink /app/link; cat /app/link';
  const shown = await out(['run', '--rm', '-v', 'cu:/app', 'app:plain', 'sh', '-c', ls]);
  assert.match(shown, /^751 0:0$/m);
  assert.match(shown, /^640 1000:1000$/m);
  assert.match(shown, /^700 0:0$/m);
  assert.match(shown, /^f$/m);
  assert.match(shown, /^from the image$/m);
  const data = join(d.dataRoot, 'volumes', 'cu', '_data');
  assert.equal(execFileSync('getfattr', ['--only-values', '-n', 'user.berth', join(data, 'f')]).toString(), 'kept');
  // Non-empty now: a later container's image content does not land in it.
  writeFileSync(join(data, 'f'), 'changed\n');
  assert.equal(await out(['run', '--rm', '-v', 'cu:/app', 'app:plain', 'cat', '/app/f']), 'changed');
  assert.equal(await out(['run', '--rm', '-v', 'cu2:/app:nocopy', 'app:plain', 'busybox', 'ls', '-A', '/app']), '');
  assert.equal(await out(['run', '--rm', '--mount', 'type=volume,source=cu3,target=/app,volume-nocopy', 'app:plain', 'busybox', 'ls', '-A', '/app']), '');
  // An image VOLUME gets an anonymous volume with the image's files.
  const id = await out(['create', 'app:vol', 'cat', '/app/f']);
  const [m] = await inspectMounts(id);
  assert.equal(m.Destination, '/app');
  assert.equal(m.Type, 'volume');
  assert.equal(readFileSync(join(m.Source as string, 'f'), 'utf8'), 'from the image\n');
  assert.equal(await out(['start', '-a', id]), 'from the image');
  await run(['rm', '-v', id]);
  for (const v of ['cu', 'cu2', 'cu3']) await run(['volume', 'rm', v]);
});

test('binds: a missing -v host path is made; --mount needs it; read-only and propagation honoured', async () => {
  const host = join(work, 'made', 'by', 'run');
  assert.equal(existsSync(host), false);
  await run(['run', '--rm', '-v', `${host}:/data`, 'busybox', 'sh', '-c', 'echo in > /data/x']);
  assert.equal(readFileSync(join(host, 'x'), 'utf8'), 'in\n');
  assert.equal(statSync(host).mode & 0o777, 0o755);
  assert.match(await fails(['run', '--rm', '--mount', `type=bind,source=${join(work, 'absent')},target=/data`, 'busybox', 'true']),
    /invalid mount config for type "bind": bind source path does not exist: .*absent/);
  assert.match(await fails(['run', '--rm', '-v', `${host}:/data:ro`, 'busybox', 'sh', '-c', 'echo no > /data/y']), /Read-only file system/);
  const id = await out(['create', '--mount', `type=bind,source=${host},target=/data,readonly,bind-propagation=rslave`, 'busybox', 'cat', '/data/x']);
  const [m] = await inspectMounts(id);
  assert.deepEqual(m, { Type: 'bind', Source: host, Destination: '/data', Mode: '', RW: false, Propagation: 'rslave' });
  assert.equal(await out(['start', '-a', id]), 'in');
  await run(['rm', id]);
});

test('--mount type=volume with options, type=tmpfs, --tmpfs: real mounts inside', async () => {
  const mounts = await out(['run', '--rm',
    '--mount', 'type=volume,source=mv,target=/v,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=3m',
    '--mount', 'type=tmpfs,target=/t,tmpfs-size=1048576,tmpfs-mode=1770',
    '--tmpfs', '/run2:size=2m',
    'busybox', 'sh', '-c', 'cat /proc/mounts; busybox stat -c "%a" /t']);
  assert.match(mounts, /^tmpfs \/v tmpfs .*size=3072k/m);
  assert.match(mounts, /^tmpfs \/t tmpfs .*size=1024k.*mode=1770/m);
  assert.match(mounts, /^tmpfs \/run2 tmpfs .*size=2048k/m);
  assert.match(mounts, /^1770$/m);
  const [v] = JSON.parse(await out(['volume', 'inspect', 'mv']));
  assert.deepEqual(v.Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=3m' });
  const id = await out(['create', '--mount', 'type=tmpfs,target=/t', '--tmpfs', '/run2', '--mount', 'type=volume,source=mv,target=/v,readonly', 'busybox', 'true']);
  const ms = await inspectMounts(id);
  // As dockerd: --tmpfs is not listed under Mounts (it is in HostConfig.Tmpfs); --mount tmpfs is.
  assert.deepEqual(ms.map((m) => m.Destination).sort(), ['/t', '/v']);
  assert.deepEqual(ms.find((m) => m.Destination === '/t'), { Type: 'tmpfs', Source: '', Destination: '/t', Mode: '', RW: true, Propagation: '' });
  assert.equal(ms.find((m) => m.Destination === '/v')?.RW, false);
  await run(['rm', id]);
  await run(['volume', 'rm', 'mv']);
});

test('--volumes-from takes another container\'s mounts, read-only when asked', async () => {
  const src = await out(['create', '--name', 'vfsrc', '-v', 'vf:/shared', '-v', '/anonvf', 'busybox', 'true']);
  const r = await out(['run', '--rm', '--volumes-from', 'vfsrc', 'busybox', 'sh', '-c', 'echo via > /shared/f; echo ok > /anonvf/g; cat /shared/f']);
  assert.equal(r, 'via');
  assert.match(await fails(['run', '--rm', '--volumes-from', 'vfsrc:ro', 'busybox', 'sh', '-c', 'echo no > /shared/f']), /Read-only file system/);
  const id = await out(['create', '--volumes-from', 'vfsrc:ro', 'busybox', 'true']);
  const ms = await inspectMounts(id);
  assert.deepEqual(ms.map((m) => [m.Destination, m.RW]).sort(), [['/anonvf', false], ['/shared', false]]);
  // 404 as dockerd (the CLI then tries to pull the image, as it does with dockerd).
  const missing = await apiRequest(d.socket, 'POST', '/containers/create', { Image: 'busybox', HostConfig: { VolumesFrom: ['nosuch'] } });
  assert.equal(missing.status, 404);
  assert.equal(JSON.parse(missing.body).message, 'No such container: nosuch');
  await run(['rm', id]);
  await run(['rm', '-v', src]);
  await run(['volume', 'rm', 'vf']);
});

test('docker cp into and out of a volume, running or not; commit leaves the volume out', async () => {
  const id = await out(['create', '-v', 'cpv:/data', 'busybox', 'sleep', '60']);
  const file = join(work, 'cpin');
  writeFileSync(file, 'copied in\n');
  await run(['cp', file, `${id}:/data/in`]);
  assert.equal(readFileSync(join(d.dataRoot, 'volumes', 'cpv', '_data', 'in'), 'utf8'), 'copied in\n');
  await run(['start', id]);
  await run(['exec', id, 'sh', '-c', 'echo from container > /data/out']);
  const back = join(work, 'cpout');
  await run(['cp', `${id}:/data/out`, back]);
  assert.equal(readFileSync(back, 'utf8'), 'from container\n');
  await run(['cp', file, `${id}:/data/in2`]);
  assert.equal(await out(['exec', id, 'cat', '/data/in2']), 'copied in');
  // A folder copied into / with the volume below: what is under /data lands in the volume.
  const tree = join(work, 'tree');
  mkdirSync(join(tree, 'data', 'sub'), { recursive: true });
  writeFileSync(join(tree, 'data', 'sub', 'x'), 'through the volume\n');
  writeFileSync(join(tree, 'rootfile'), 'in the root\n');
  await run(['cp', `${tree}/.`, `${id}:/`]);
  assert.equal(readFileSync(join(d.dataRoot, 'volumes', 'cpv', '_data', 'sub', 'x'), 'utf8'), 'through the volume\n');
  assert.equal(await out(['exec', id, 'cat', '/data/sub/x', '/rootfile']), 'through the volume\nin the root');
  // And out again: a folder with the volume below it is packed with the volume's content.
  const outDir = join(work, 'cpback');
  mkdirSync(outDir);
  await run(['cp', `${id}:/`, outDir]);
  assert.equal(readFileSync(join(outDir, 'data', 'sub', 'x'), 'utf8'), 'through the volume\n');
  assert.equal(readFileSync(join(outDir, 'data', 'in'), 'utf8'), 'copied in\n');
  assert.equal(readFileSync(join(outDir, 'rootfile'), 'utf8'), 'in the root\n');
  // export and commit leave the volume out, as dockerd: its mount point is there, its content is not.
  const exported = join(work, 'export.tar');
  await run(['export', '-o', exported, id]);
  const names = execFileSync('tar', ['-tf', exported]).toString().split('\n');
  assert.ok(names.includes('data/'), 'the mount point is exported');
  assert.ok(!names.some((n) => n.startsWith('data/') && n !== 'data/'), `nothing of the volume is exported: ${names.filter((n) => n.startsWith('data/')).join(' ')}`);
  assert.ok(names.includes('rootfile'));
  await run(['commit', id, 'committed:v']);
  assert.equal(await out(['run', '--rm', 'committed:v', 'busybox', 'ls', '-A', '/data']), '');
  await run(['rm', '-f', id]);
  await run(['rmi', 'committed:v']);
  await run(['volume', 'rm', 'cpv']);
});

test('refused, never ignored: bad -v specs, duplicates, non-recursive binds, volume-subpath', async () => {
  const create = async (HostConfig: object) => {
    const r = await apiRequest(d.socket, 'POST', '/containers/create', { Image: 'busybox', HostConfig });
    assert.equal(r.status, 400, r.body);
    return JSON.parse(r.body).message as string;
  };
  assert.equal(await create({ Binds: ['/a:/b:/c:/d'] }), "invalid volume specification: '/a:/b:/c:/d'");
  assert.equal(await create({ Binds: ['/a:rw'] }), "invalid volume specification: '/a:rw'");
  assert.match(await create({ Binds: ['/a:b'] }), /mount path must be absolute/);
  assert.match(await fails(['create', '-v', '/a:/b:bogus', 'busybox']), /invalid mode: bogus/);
  assert.equal(await create({ Binds: ['vv:/x', 'ww:/x'] }), 'Duplicate mount point: /x');
  assert.equal(await create({ Binds: [`${work}:/x`], Mounts: [{ Type: 'tmpfs', Target: '/x' }] }), 'Duplicate mount point: /x');
  assert.match(await fails(['create', '--mount', `type=bind,source=${work},target=/x,bind-recursive=disabled`, 'busybox']), /non-recursive bind mounts are not supported by Berth/);
  const sub = await apiRequest(d.socket, 'POST', '/containers/create', { Image: 'busybox', HostConfig: { Mounts: [{ Type: 'volume', Source: 'sp', Target: '/x', VolumeOptions: { Subpath: 'a' } }] } });
  assert.equal(sub.status, 400);
  assert.match(JSON.parse(sub.body).message, /Subpath/);
  assert.equal((await apiRequest(d.socket, 'GET', '/volumes/sp')).status, 404, 'nothing made for a refused create');
  assert.match(await fails(['create', '--mount', 'type=tmpfs,source=x,target=/t', 'busybox']), /field Source must not be specified/);
});

test('df lists volumes with their size and users; volume prune takes anonymous unused ones; events', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  await run(['volume', 'create', 'dfv']);
  await run(['run', '--rm', '-v', 'dfv:/d', 'busybox', 'sh', '-c', 'echo 12345 > /d/f']);
  const df = JSON.parse((await apiRequest(d.socket, 'GET', '/system/df')).body);
  const v = df.Volumes.find((x: { Name: string }) => x.Name === 'dfv');
  assert.deepEqual(v.UsageData, { Size: 6, RefCount: 0 });
  assert.match(await out(['system', 'df', '-v']), /dfv\s+0\s+6B/);
  const anon = await out(['volume', 'create']);
  const pruned = await out(['volume', 'prune', '-f']);
  // The CLI's prune (API 1.42+) takes anonymous volumes only: named ones stay, as with dockerd.
  assert.doesNotMatch(pruned, /dfv/);
  assert.match(pruned, new RegExp(anon));
  const events = await out(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'type=volume', '--format', '{{.Action}} {{.Actor.ID}}']);
  for (const a of ['create dfv', 'mount dfv', 'unmount dfv']) assert.match(events, new RegExp(`^${a}$`, 'm'));
  await run(['volume', 'rm', 'dfv']);
  const destroyed = await out(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'type=volume', '--format', '{{.Action}} {{.Actor.ID}}']);
  assert.match(destroyed, /^destroy dfv$/m);
});
