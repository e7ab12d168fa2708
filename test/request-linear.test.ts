// Issue 13 item 8: nothing a client sends may block the daemon for longer than its own linear
// work. A create with 20,000 Env entries took about 62 s of a frozen event loop (quadratic merge
// by key); dockerd takes 0.02 s. A /_ping sent meanwhile must answer within a few seconds.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { apiRequest, makeTempDir, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';

let d: RunningDaemon;
let work: string;
before(async () => {
  work = makeTempDir('berth-linear-');
  d = await startDaemon();
  // The image brings Env and Labels of its own, so the merge by key has both sides to merge.
  await importBusybox(d.socket, work, { changes: ['CMD ["sh"]', 'ENV IMG_A=1 IMG_B=2', 'LABEL img=yes'] });
});
after(async () => {
  await removeAllContainers(d.socket);
  await d?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

/** Runs `work` and pings meanwhile: every ping's latency, and how long the work took. */
async function whilePinging(work: () => Promise<number>): Promise<{ status: number; ms: number; pings: number[] }> {
  const pings: number[] = [];
  let done = false;
  const t0 = Date.now();
  const job = work().finally(() => (done = true));
  const pinger = (async () => {
    await new Promise((r) => setTimeout(r, 50));
    // Bounded: at most 200 pings, 50 ms apart, and only while the create runs.
    for (let i = 0; i < 200 && !done; i++) {
      const s = Date.now();
      const r = await apiRequest(d.socket, 'GET', '/_ping').catch(() => ({ status: 0 }));
      // A ping that got no answer (timed out) counts as the longest wait there is.
      pings.push(r.status === 200 ? Date.now() - s : Infinity);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const status = await job;
  await pinger;
  return { status, ms: Date.now() - t0, pings };
}

const BOUND_MS = 5_000;

for (const [what, n, body] of [
  ['20,000 Env entries', 20_000, (n: number) => ({ Env: Array.from({ length: n }, (_, i) => `K${i}=v${i}`) })],
  ['200,000 Env entries', 200_000, (n: number) => ({ Env: Array.from({ length: n }, (_, i) => `K${i}=v${i}`) })],
  ['20,000 labels', 20_000, (n: number) => ({ Labels: Object.fromEntries(Array.from({ length: n }, (_, i) => [`l${i}`, `v${i}`])) })],
] as const) {
  test(`a create with ${what} finishes and /_ping answers meanwhile within ${BOUND_MS} ms`, async () => {
    let id = '';
    const r = await whilePinging(async () => {
      const res = await apiRequest(d.socket, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], ...body(n) }).catch(() => ({ status: 0, json: () => ({}) }));
      if (res.status === 201) id = res.json().Id;
      return res.status;
    });
    console.log(`# ${what}: create ${r.ms} ms, longest ping ${Math.max(0, ...r.pings)} ms`);
    assert.equal(r.status, 201);
    assert.ok(r.ms < BOUND_MS, `the create took ${r.ms} ms`);
    assert.ok(Math.max(0, ...r.pings) < BOUND_MS, `a ping took ${Math.max(...r.pings)} ms`);
    const c = (await apiRequest(d.socket, 'GET', `/containers/${id}/json`)).json();
    if ('Env' in body(1)) {
      assert.equal(c.Config.Env.length, n + 2, 'every entry kept, the image\'s too (IMG_A, IMG_B)');
      assert.ok(c.Config.Env.includes(`K${n - 1}=v${n - 1}`));
    } else {
      assert.equal(Object.keys(c.Config.Labels).length, n + 1);
    }
    assert.equal((await apiRequest(d.socket, 'DELETE', `/containers/${id}`)).status, 204);
  });
}

test('Env merges by key: the request wins over the image, order kept, duplicates of the request collapse to the last', async () => {
  const res = await apiRequest(d.socket, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], Env: ['IMG_B=req', 'NEW=1', 'NEW=2', 'BARE'] });
  assert.equal(res.status, 201, res.body);
  const c = (await apiRequest(d.socket, 'GET', `/containers/${res.json().Id}/json`)).json();
  const env = c.Config.Env.filter((e: string) => !e.startsWith('PATH='));
  assert.deepEqual(env, ['IMG_A=1', 'IMG_B=req', 'NEW=2', 'BARE']);
  await apiRequest(d.socket, 'DELETE', `/containers/${res.json().Id}`);
});

test('a commit whose config has 20,000 Env entries over a container with 20,000 merges them at linear cost', async () => {
  const n = 20_000;
  const created = await apiRequest(d.socket, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], Env: Array.from({ length: n }, (_, i) => `C${i}=c`) });
  assert.equal(created.status, 201, created.body);
  const id = created.json().Id;
  const r = await whilePinging(async () => {
    const res = await apiRequest(d.socket, 'POST', `/commit?container=${id}&repo=linear&tag=env`, { Env: Array.from({ length: n }, (_, i) => `U${i}=u`) })
      .catch(() => ({ status: 0 }));
    return res.status;
  });
  console.log(`# commit: ${r.ms} ms, longest ping ${Math.max(0, ...r.pings)} ms`);
  assert.equal(r.status, 201);
  assert.ok(r.ms < BOUND_MS, `the commit took ${r.ms} ms`);
  assert.ok(Math.max(0, ...r.pings) < BOUND_MS);
  const img = (await apiRequest(d.socket, 'GET', '/images/linear:env/json')).json();
  assert.equal(img.Config.Env.length, 2 * n + 2);
  await apiRequest(d.socket, 'DELETE', `/containers/${id}`);
  await apiRequest(d.socket, 'DELETE', '/images/linear:env');
});
