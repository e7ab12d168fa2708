// Clients that poll come in bursts: lists asked for in the same turn of the event loop share one
// answer (lib/turn-coalescer.ts), built and encoded once. What a client must still see: every
// answer complete and current (a container created before the request is in it), and each
// client's own API version's shape, whoever else asked at the same time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiRequest, type RunningDaemon } from './helpers/daemon.js';
import { withBusyboxDaemon } from './helpers/busybox.js';

let d: RunningDaemon;
withBusyboxDaemon('berth-list-bursts-', (daemon) => { d = daemon; });

const BURST = 100;

async function create(name: string): Promise<string> {
  const r = await apiRequest(d.socket, 'POST', `/containers/create?name=${name}`, { Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'none' } });
  assert.equal(r.status, 201, r.body);
  return r.json().Id as string;
}

const burst = (path: string) => Promise.all(Array.from({ length: BURST }, () => apiRequest(d.socket, 'GET', path)));

test('a burst of container lists gets one complete answer, and a list asked for after a create shows it', async () => {
  const ids = [await create('burst-a'), await create('burst-b'), await create('burst-c')];
  const first = await burst('/containers/json?all=1');
  for (const r of first) assert.equal(r.status, 200, r.body);
  assert.equal(new Set(first.map((r) => r.body)).size, 1, 'every answer of the burst is the same list');
  assert.deepEqual(first[0].json().map((c: { Id: string }) => c.Id).sort(), [...ids].sort());

  // No answer outlives its turn: a create acknowledged before a burst is in all of its answers.
  for (let round = 0; round < 5; round++) {
    const id = await create(`burst-next-${round}`);
    ids.push(id);
    const next = await burst('/containers/json?all=1');
    for (const r of next) {
      assert.equal(r.status, 200, r.body);
      assert.deepEqual(r.json().map((c: { Id: string }) => c.Id).sort(), [...ids].sort(), `round ${round}: every answer lists ${id}`);
    }
  }
  // Different questions in one burst get their own answers.
  const [all, running, named] = await Promise.all([
    apiRequest(d.socket, 'GET', '/containers/json?all=1'),
    apiRequest(d.socket, 'GET', '/containers/json'),
    apiRequest(d.socket, 'GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ name: ['burst-b'] }))}`),
  ]);
  assert.equal(all.json().length, ids.length);
  assert.deepEqual(running.json(), []);
  assert.deepEqual(named.json().map((c: { Names: string[] }) => c.Names), [['/burst-b']]);
});

test('image lists asked for at once by clients of different API versions each get their version\'s shape', async () => {
  const paths = Array.from({ length: 40 }, (_, i) => (i % 2 ? '/v1.41/images/json' : '/v1.44/images/json'));
  const answers = await Promise.all(paths.map((p) => apiRequest(d.socket, 'GET', p)));
  answers.forEach((r, i) => {
    assert.equal(r.status, 200, r.body);
    const [image] = r.json() as Record<string, unknown>[];
    assert.deepEqual(image.RepoTags, ['busybox:latest']);
    // API 1.44 dropped VirtualSize; a 1.41 client still gets it (dockerd's version gate).
    if (i % 2) assert.equal(image.VirtualSize, image.Size, paths[i]);
    else assert.equal('VirtualSize' in image, false, paths[i]);
  });
});
