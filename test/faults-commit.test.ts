// Fault suite, kill -9 during docker commit: at several moments of committing a container with
// 20 MB of changes the daemon is killed; after each restart nothing the crash left is on disk or
// counted (no layer without its image, no temp file, no metadata without an image), images that
// were committed are whole, and image prune -a leaves an empty store.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { apiRequest, docker, DOCKER_CONFIG, makeTempDir, onCleanup, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { importBusybox } from './helpers/busybox.js';
import { namesIn } from './helpers/small-disk.js';

const HEX = /^[a-f0-9]{64}$/;
const BIG = 20 * 1024 * 1024;

function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length ? `sha256:${createHash('sha256').update(`${out.at(-1)} ${d}`).digest('hex')}` : d);
  return out;
}

async function checkNoLeftovers(d: RunningDaemon, containers: number): Promise<void> {
  const root = join(d.dataRoot, 'image', 'overlay');
  const images = (await apiRequest(d.socket, 'GET', '/images/json?all=1')).json() as { Id: string }[];
  const owned = new Set<string>();
  for (const i of images) {
    const img = (await apiRequest(d.socket, 'GET', `/images/${i.Id}/json`)).json();
    for (const c of chainIds(img.RootFS.Layers)) owned.add(c.slice('sha256:'.length));
  }
  const layers = namesIn(join(root, 'layerdb', 'sha256'));
  assert.deepEqual([...layers].sort(), [...owned].sort(), 'every layer belongs to an image');
  assert.deepEqual(namesIn(join(root, 'layerdb', 'tmp')), [], 'no staging left');
  const content = namesIn(join(root, 'imagedb', 'content', 'sha256'));
  assert.deepEqual(content.filter((n) => !HEX.test(n)), [], 'no temp file among image configurations');
  assert.deepEqual(content.sort(), images.map((i) => i.Id.slice('sha256:'.length)).sort());
  const metadata = namesIn(join(root, 'imagedb', 'metadata', 'sha256'));
  assert.deepEqual(metadata.filter((m) => !content.includes(m)), [], 'no metadata without its image');
  const driverLayers = namesIn(join(d.dataRoot, 'overlay')).filter((n) => HEX.test(n));
  assert.equal(driverLayers.length, layers.length + containers, 'no driver layer without its layer or container');
  const sizes = layers.reduce((n, l) => n + Number(readFileSync(join(root, 'layerdb', 'sha256', l, 'size'), 'utf8')), 0);
  const df = (await apiRequest(d.socket, 'GET', '/system/df')).json();
  assert.equal(df.LayersSize, sizes, 'system df counts only the layers images own');
}

test('kill -9 at several moments of docker commit leaves nothing behind; committed images are whole', async (t) => {
  const work = makeTempDir('berth-fault-work-');
  onCleanup(t, () => rmSync(work, { recursive: true, force: true }));
  let d = await startDaemon();
  const first = d;
  onCleanup(t, () => first.cleanup());
  await importBusybox(d.socket, work);
  const made = await docker(d.socket, ['run', '--name', 'big', 'busybox', 'sh', '-c', `busybox dd if=/dev/urandom of=/big bs=1048576 count=20 2>/dev/null && echo done`], { timeoutMs: 60_000 });
  assert.equal(made.stdout.trim(), 'done', made.stderr);
  const root = () => join(d.dataRoot, 'image', 'overlay');
  const layerCount = () => namesIn(join(root(), 'layerdb', 'sha256')).length;
  const metaCount = () => namesIn(join(root(), 'imagedb', 'metadata', 'sha256')).length;
  // The moments: a layer being filled, the layer committed (its image not yet), the image's
  // metadata written (its configuration not yet), the configuration's temp file written.
  const moments: [string, () => () => boolean][] = [
    ['layer being filled', () => () => namesIn(join(root(), 'layerdb', 'tmp')).some((n) => n.startsWith('filling-'))],
    ['layer committed', () => { const n = layerCount(); return () => layerCount() > n; }],
    ['image metadata written', () => { const n = metaCount(); return () => metaCount() > n; }],
    ['image configuration being written', () => () => namesIn(join(root(), 'imagedb', 'content', 'sha256')).some((f) => f.startsWith('.'))],
  ];
  const hit: string[] = [];
  for (const [i, [moment, arm]] of moments.entries()) {
    const reached = arm();
    const commit = spawn('docker', ['-H', `unix://${d.socket}`, 'commit', 'big', `commit:${i}`], { env: { ...process.env, DOCKER_CONFIG }, stdio: 'ignore' });
    const closed = new Promise((r) => commit.on('close', r));
    let done = false;
    void closed.then(() => (done = true));
    const deadline = Date.now() + 60_000;
    while (!reached() && !done && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    if (reached()) hit.push(moment);
    d.proc.kill('SIGKILL');
    await d.exited;
    await closed;
    const dir = d.dir;
    d = await startDaemon({ dir });
    const again = d;
    onCleanup(t, () => again.cleanup());
    await checkNoLeftovers(d, 1);
  }
  t.diagnostic(`kills reached: ${hit.join(", ")}`);
  assert.ok(hit.length >= 2, `the kills came at the moments aimed at (reached: ${hit.join(', ')})`);
  // Committed images are whole: their 20 MB file is there.
  const tags = (await docker(d.socket, ['images', '--format', '{{.Repository}}:{{.Tag}}', 'commit'])).stdout.trim().split('\n').filter(Boolean);
  for (const tag of tags) {
    const r = await docker(d.socket, ['run', '--rm', tag, 'busybox', 'wc', '-c', '/big']);
    assert.equal(r.stdout.trim(), `${BIG} /big`, r.stderr);
  }
  // And nothing survives a prune once the container is gone.
  await docker(d.socket, ['rm', 'big']);
  await docker(d.socket, ['image', 'prune', '-a', '-f'], { timeoutMs: 60_000 });
  await checkNoLeftovers(d, 0);
  assert.deepEqual(namesIn(join(root(), 'layerdb', 'sha256')), []);
  assert.equal((await apiRequest(d.socket, 'GET', '/system/df')).json().LayersSize, 0);
});
