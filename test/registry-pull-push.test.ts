// docker push, pull and run against a real registry (Debian's docker-registry on 127.0.0.1):
// image IDs and repo digests survive the round trip, layers present are skipped, Docker schema2,
// OCI manifests and OCI indexes (with --platform) are read, pull by digest and -a work.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { docker, makeTempDir, onCleanup, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { makeDockerArchive, makeRandomLayer } from './helpers/docker-archive.js';
import { startRegistry, type RunningRegistry } from './helpers/registry.js';
import { makeBusyboxRootfs } from './helpers/rootfs.js';

let r: RunningRegistry;
let d: RunningDaemon;
let work: string;
let ref1: string;
let two: string;
let archive: string;
let rootfsTar: string;

before(async () => {
  work = makeTempDir('berth-registry-');
  r = await startRegistry();
  d = await startDaemon();
  ref1 = `${r.host}/t/busybox:1`;
  two = `${r.host}/t/two:1`;
  mkdirSync(join(work, 'a'));
  const rootfs = makeBusyboxRootfs(join(work, 'a'));
  rootfsTar = rootfs.path;
  await docker(d.socket, ['import', '-c', 'CMD ["sh"]', rootfs.path, ref1]);
  // A two-layer image whose bottom layer is the same tar as busybox:1's only layer.
  copyFileSync(rootfs.path, join(work, 'base.tar'));
  const extra = makeRandomLayer(work, 'extra', 2, 256 << 10);
  archive = makeDockerArchive(work, [join(work, 'base.tar'), extra], [two]).path;
});
after(async () => {
  await d?.cleanup();
  await r?.stop();
  rmSync(work, { recursive: true, force: true });
});

const inspect = async (daemon: RunningDaemon, name: string) => JSON.parse((await docker(daemon.socket, ['image', 'inspect', name])).stdout)[0];
const registryUrl = (path: string) => `http://${r.host}${path}`;

test('docker push, rmi, pull: same image ID and repo digest; progress lines in the CLI', async () => {
  const id = (await inspect(d, ref1)).Id;
  const push = await docker(d.socket, ['push', ref1], { timeoutMs: 60_000 });
  assert.match(push.stdout, new RegExp(`The push refers to repository \\[${r.host}/t/busybox\\]`));
  assert.match(push.stdout, /: Pushed\n/);
  const digest = /1: digest: (sha256:[a-f0-9]{64}) size: \d+/.exec(push.stdout)?.[1];
  assert.ok(digest, push.stdout);
  const again = await docker(d.socket, ['push', ref1], { timeoutMs: 60_000 });
  assert.match(again.stdout, /: Layer already exists\n/, 'the compressed digest was remembered');
  assert.match(again.stdout, new RegExp(`1: digest: ${digest}`));

  const rmi = await docker(d.socket, ['rmi', ref1]);
  assert.match(rmi.stdout, /Deleted: sha256:/);
  const pull = await docker(d.socket, ['pull', ref1], { timeoutMs: 60_000 });
  assert.match(pull.stdout, /^1: Pulling from t\/busybox\n/);
  assert.match(pull.stdout, /[a-f0-9]{12}: Pulling fs layer\n/);
  assert.match(pull.stdout, /[a-f0-9]{12}: Download complete\n/);
  assert.match(pull.stdout, /[a-f0-9]{12}: Pull complete\n/);
  assert.match(pull.stdout, new RegExp(`Digest: ${digest}\nStatus: Downloaded newer image for ${ref1}\n`));
  const image = await inspect(d, ref1);
  assert.equal(image.Id, id);
  assert.deepEqual(image.RepoDigests, [`${r.host}/t/busybox@${digest}`]);
  const up = await docker(d.socket, ['pull', ref1], { timeoutMs: 60_000 });
  assert.match(up.stdout, new RegExp(`Status: Image is up to date for ${ref1}`));
});

test('a layer already present is not downloaded again; the pulled layers are extracted', async () => {
  await docker(d.socket, ['load', '-i', archive]);
  await docker(d.socket, ['push', two], { timeoutMs: 60_000 });
  await docker(d.socket, ['rmi', two]);
  const pull = await docker(d.socket, ['pull', two], { timeoutMs: 60_000 });
  assert.equal(pull.stdout.match(/: Already exists\n/g)?.length, 1, pull.stdout);
  assert.equal(pull.stdout.match(/: Pull complete\n/g)?.length, 1, pull.stdout);
  const ls = await docker(d.socket, ['run', '--rm', two, 'ls', '/data'], { timeoutMs: 60_000 });
  assert.equal(ls.stdout, 'extra-0.bin\nextra-1.bin\n', ls.stderr);
});

test('docker run of an absent image pulls it first (fresh daemon)', async (t) => {
  const fresh = await startDaemon();
  onCleanup(t, () => fresh.cleanup());
  const run = await docker(fresh.socket, ['run', '--rm', ref1, 'echo', 'hi'], { timeoutMs: 60_000 });
  assert.equal(run.stdout, 'hi\n', run.stderr);
  assert.match(run.stderr, new RegExp(`Unable to find image '${ref1}' locally`));
  assert.match(run.stderr, /Pull complete/);
});

async function put(path: string, mediaType: string, body: string): Promise<string> {
  const res = await fetch(registryUrl(path), { method: 'PUT', headers: { 'Content-Type': mediaType }, body });
  assert.equal(res.status, 201, await res.text());
  return res.headers.get('docker-content-digest')!;
}

test('OCI manifests and an OCI index: the host platform by default, --platform, pull by digest', async () => {
  const schema2 = 'application/vnd.docker.distribution.manifest.v2+json';
  const manifestOf = async (repo: string) => (await (await fetch(registryUrl(`/v2/${repo}/manifests/1`), { headers: { Accept: schema2 } })).json()) as any;
  const toOci = async (from: string, m: any) => {
    for (const b of [m.config, ...m.layers]) {
      const res = await fetch(registryUrl(`/v2/t/oci/blobs/uploads/?mount=${b.digest}&from=${from}`), { method: 'POST' });
      assert.equal(res.status, 201, `mount ${b.digest}`);
    }
    const oci = JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { ...m.config, mediaType: 'application/vnd.oci.image.config.v1+json' },
      layers: m.layers.map((l: any) => ({ ...l, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' })),
    });
    const digest = await put(`/v2/t/oci/manifests/${from.replace('/', '-')}`, 'application/vnd.oci.image.manifest.v1+json', oci);
    return { digest, size: Buffer.byteLength(oci) };
  };
  const busy = await toOci('t/busybox', await manifestOf('t/busybox'));
  const other = await toOci('t/two', await manifestOf('t/two'));
  const host = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[arch()] ?? arch();
  const foreign = host === 'amd64' ? 'arm64' : 'amd64';
  const index = JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...other, platform: { os: 'linux', architecture: foreign } },
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...busy, platform: { os: 'linux', architecture: host } },
    ],
  });
  const indexDigest = await put('/v2/t/oci/manifests/multi', 'application/vnd.oci.image.index.v1+json', index);

  const busyId = (await inspect(d, ref1)).Id;
  const twoId = (await inspect(d, two)).Id;
  const pull = await docker(d.socket, ['pull', `${r.host}/t/oci:multi`], { timeoutMs: 60_000 });
  assert.match(pull.stdout, new RegExp(`Digest: ${indexDigest}`));
  const image = await inspect(d, `${r.host}/t/oci:multi`);
  assert.equal(image.Id, busyId);
  assert.ok(image.RepoDigests.includes(`${r.host}/t/oci@${indexDigest}`), image.RepoDigests.join());

  await docker(d.socket, ['pull', '--platform', `linux/${foreign}`, `${r.host}/t/oci:multi`], { timeoutMs: 60_000 });
  assert.equal((await inspect(d, `${r.host}/t/oci:multi`)).Id, twoId);

  const byDigest = await docker(d.socket, ['pull', `${r.host}/t/oci@${busy.digest}`], { timeoutMs: 60_000 });
  assert.match(byDigest.stdout, new RegExp(`Status: .* for ${r.host}/t/oci@${busy.digest}`));
  assert.equal((await inspect(d, `${r.host}/t/oci@${busy.digest}`)).Id, busyId);

  const wrong = await docker(d.socket, ['pull', '--platform', `linux/${foreign}`, ref1], { timeoutMs: 60_000, expectCode: 1 });
  assert.match(wrong.stderr, new RegExp(`does not match the specified platform: wanted linux/${foreign}, actual: linux/${host}`));
  const missing = await docker(d.socket, ['pull', `${r.host}/t/oci:nope`], { timeoutMs: 60_000, expectCode: 1 });
  assert.match(missing.stderr, new RegExp(`manifest for ${r.host}/t/oci:nope not found: manifest unknown`));
});

test('docker pull -a fetches every tag of the repository', async () => {
  await docker(d.socket, ['tag', ref1, `${r.host}/t/busybox:2`]);
  await docker(d.socket, ['push', `${r.host}/t/busybox:2`], { timeoutMs: 60_000 });
  await docker(d.socket, ['rmi', `${r.host}/t/busybox:2`]);
  const pull = await docker(d.socket, ['pull', '-a', `${r.host}/t/busybox`], { timeoutMs: 60_000 });
  assert.match(pull.stdout, /1: Pulling from t\/busybox\n/);
  assert.match(pull.stdout, /2: Pulling from t\/busybox\n/);
  const rows = (await docker(d.socket, ['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.trim().split('\n');
  assert.deepEqual(rows.filter((l) => l.startsWith(`${r.host}/t/busybox:`)).sort(), [`${r.host}/t/busybox:1`, `${r.host}/t/busybox:2`]);
});

test('docker rmi after push and pull: a repository\'s digest goes with its last tag; a pulled image is removed by ID', async () => {
  // An image of its own, named in two repositories.
  const ref = `${r.host}/t/rmi:1`;
  const other = `${r.host}/t/rmi-other:1`;
  await docker(d.socket, ['import', '-c', 'ENV WHO=rmi', rootfsTar, ref]);
  await docker(d.socket, ['tag', ref, other]);
  const push = await docker(d.socket, ['push', ref], { timeoutMs: 60_000 });
  const digest = /1: digest: (sha256:[a-f0-9]{64})/.exec(push.stdout)![1];
  const id = (await inspect(d, ref)).Id;
  // The other repository's tag stays: only this repository's names go, its digest included.
  const untag = await docker(d.socket, ['rmi', ref]);
  assert.deepEqual(untag.stdout.trim().split('\n'), [`Untagged: ${ref}`, `Untagged: ${r.host}/t/rmi@${digest}`]);
  assert.deepEqual((await inspect(d, other)).RepoDigests, []);
  const last = await docker(d.socket, ['rmi', other]);
  assert.match(last.stdout, new RegExp(`Deleted: ${id}`));

  // Pulled back, the image has a tag and a digest of one repository: its ID removes it, no -f.
  await docker(d.socket, ['pull', ref], { timeoutMs: 60_000 });
  assert.equal((await inspect(d, ref)).Id, id);
  const byId = await docker(d.socket, ['rmi', id.slice(7, 19)]);
  assert.deepEqual(byId.stdout.trim().split('\n').filter((l) => l.startsWith('Untagged')).sort(), [`Untagged: ${ref}`, `Untagged: ${r.host}/t/rmi@${digest}`].sort());
  assert.match(byId.stdout, new RegExp(`Deleted: ${id}`));
});

test('docker search against a registry without /v1/search fails as dockerd does', async () => {
  const s = await docker(d.socket, ['search', `${r.host}/busybox`], { expectCode: 1 });
  assert.match(s.stderr, /Unexpected status code 404/);
});

test('push, pull and tag are published as image events', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  await docker(d.socket, ['tag', ref1, `${r.host}/t/ev:1`]);
  await docker(d.socket, ['push', `${r.host}/t/ev:1`], { timeoutMs: 60_000 });
  await docker(d.socket, ['pull', `${r.host}/t/ev:1`], { timeoutMs: 60_000 });
  const until = String(Math.floor(Date.now() / 1000) + 1);
  const ev = (await docker(d.socket, ['events', '--since', String(since), '--until', until, '--filter', 'type=image', '--format', '{{.Action}} {{.Actor.Attributes.name}}'])).stdout;
  assert.match(ev, new RegExp(`tag ${r.host}/t/ev:1\n`));
  assert.match(ev, new RegExp(`push ${r.host}/t/ev\n`));
  assert.match(ev, new RegExp(`pull ${r.host}/t/ev\n`));
  assert.equal(ev.split('\n').filter((l) => l === `tag ${r.host}/t/ev:1`).length, 1, 'the pull itself reports no tag event');
});

test('a layer the registry holds in another repository is mounted, not uploaded', async () => {
  const copy = `${r.host}/t/copy:1`;
  await docker(d.socket, ['tag', ref1, copy]);
  const push = await docker(d.socket, ['push', copy], { timeoutMs: 60_000 });
  assert.match(push.stdout, /: Mounted from t\/(busybox|oci|ev)\n/);
  assert.doesNotMatch(push.stdout, /: Pushed\n/);
  const missing = await docker(d.socket, ['push', `${r.host}/t/none:1`], { expectCode: 1 });
  assert.match(missing.stderr, new RegExp(`An image does not exist locally with the tag: ${r.host}/t/none\n`));
});
