// Issue 13 item 9: concurrent operations on one container are serialised as dockerd's container
// lock does: 10 parallel starts give one 204 and nine 304 and it runs; parallel stops, kills, rms
// and renames give one winner and dockerd's answers to the rest, never a 500; 50 clients doing
// create → start → rm -f on a user network meanwhile leave no 500 and no phantom folder.
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { apiRequest, docker, makeTempDir, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';
import { assertSubnetsFree, deleteLink, makeBridge, scrubDaemon } from './helpers/network.js';

const BRIDGE = 'bt-ncon';
const NET = 'conc-net';
let d: RunningDaemon;
let work: string;
let userBridges: string[] = [];

before(async () => {
  assertSubnetsFree(['10.123.101.', '10.123.102.']);
  makeBridge(BRIDGE, '10.123.101.1/24');
  work = makeTempDir('berth-conc-');
  d = await startDaemon({ args: ['--bridge', BRIDGE] });
  await importBusybox(d.socket, work);
  await docker(d.socket, ['network', 'create', '--subnet', '10.123.102.0/24', NET]);
});

after(async () => {
  if (d) {
    await removeAllContainers(d.socket);
    const nets = (await docker(d.socket, ['network', 'ls', '-q', '--filter', 'type=custom'])).stdout.trim().split('\n').filter(Boolean);
    userBridges = nets.map((id) => `br-${id.slice(0, 12)}`);
    for (const n of nets) await docker(d.socket, ['network', 'rm', n]);
    await d.cleanup();
    scrubDaemon(d.dataRoot, d.execRoot, userBridges);
  }
  deleteLink(BRIDGE);
  rmSync(work, { recursive: true, force: true });
});

const api = (method: string, path: string, body?: object) => apiRequest(d.socket, method, path, body);

/** As apiRequest, with room for 50 runc starts at once on a small machine (bounded: 120 s). */
function slowApi(method: string, path: string, body?: object): Promise<{ status: number; body: string; json: () => any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ socketPath: d.socket, method, path, timeout: 120_000, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, json: () => JSON.parse(text) }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(data);
  });
}
const tally = (statuses: number[]) => statuses.reduce<Record<number, number>>((t, s) => ({ ...t, [s]: (t[s] ?? 0) + 1 }), {});

async function create(body: object = {}): Promise<string> {
  const r = await api('POST', '/containers/create', { Image: 'busybox', Cmd: ['sleep', '100'], StopTimeout: 2, ...body });
  assert.equal(r.status, 201, r.body);
  return r.json().Id;
}

const inspect = async (id: string) => (await api('GET', `/containers/${id}/json`)).json();

test('10 parallel starts of a created container: one 204, nine 304, and it runs', async () => {
  const id = await create();
  const rs = await Promise.all(Array.from({ length: 10 }, () => api('POST', `/containers/${id}/start`)));
  assert.deepEqual(tally(rs.map((r) => r.status)), { 204: 1, 304: 9 }, rs.filter((r) => r.status >= 400).map((r) => r.body).join('\n'));
  const c = await inspect(id);
  assert.equal(c.State.Running, true);
  assert.ok(c.State.Pid > 0);
});

test('10 parallel stops, then kills of one container: no 500, it ends stopped', async () => {
  const id = await create();
  assert.equal((await api('POST', `/containers/${id}/start`)).status, 204);
  const stops = await Promise.all(Array.from({ length: 10 }, () => api('POST', `/containers/${id}/stop?t=1`)));
  const st = stops.map((r) => r.status);
  assert.ok(st.every((s) => s === 204 || s === 304), JSON.stringify(tally(st)) + stops.map((r) => r.body).join(''));
  assert.ok(st.includes(204));
  assert.equal((await inspect(id)).State.Running, false);
  assert.equal((await api('POST', `/containers/${id}/start`)).status, 204);
  const kills = await Promise.all(Array.from({ length: 10 }, () => api('POST', `/containers/${id}/kill`)));
  const kt = kills.map((r) => r.status);
  // dockerd: the kills before the exit is recorded succeed, the later ones are "is not running".
  assert.ok(kt.every((s) => s === 204 || s === 409), JSON.stringify(tally(kt)) + kills.map((r) => r.body).join(''));
  assert.ok(kt.includes(204));
  for (const r of kills.filter((x) => x.status === 409)) assert.match(r.json().message, /is not running/);
  for (let i = 0; i < 50 && (await inspect(id)).State.Running; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal((await inspect(id)).State.Running, false);
});

test('10 parallel rm -f of a running container: one 204, the others 409 in progress or 404, nothing left', async () => {
  const id = await create();
  assert.equal((await api('POST', `/containers/${id}/start`)).status, 204);
  const rs = await Promise.all(Array.from({ length: 10 }, () => api('DELETE', `/containers/${id}?force=1`)));
  const st = rs.map((r) => r.status);
  assert.equal(st.filter((s) => s === 204).length, 1, JSON.stringify(tally(st)) + rs.map((r) => r.body).join(''));
  for (const r of rs.filter((x) => x.status !== 204)) {
    assert.ok(r.status === 409 || r.status === 404, `${r.status} ${r.body}`);
    assert.match(r.json().message, r.status === 409 ? new RegExp(`removal of container ${id} is already in progress`) : /No such container/);
  }
  assert.equal((await api('GET', `/containers/${id}/json`)).status, 404);
  assert.ok(!readdirSync(join(d.dataRoot, 'containers')).includes(id));
});

test('10 parallel renames of one container: each applied in turn, no name left reserved but the last', async () => {
  const id = await create({ Cmd: ['true'] });
  const names = Array.from({ length: 10 }, (_, i) => `conc-rename-${i}`);
  const rs = await Promise.all(names.map((n) => api('POST', `/containers/${id}/rename?name=${n}`)));
  assert.deepEqual(tally(rs.map((r) => r.status)), { 204: 10 }, rs.map((r) => r.body).join(''));
  const final = (await inspect(id)).Name.slice(1);
  assert.ok(names.includes(final));
  // Every other name is free again: a container can take it.
  for (const n of names.filter((x) => x !== final)) {
    const r = await api('POST', `/containers/create?name=${n}`, { Image: 'busybox', Cmd: ['true'] });
    assert.equal(r.status, 201, `${n}: ${r.body}`);
    assert.equal((await api('DELETE', `/containers/${r.json().Id}`)).status, 204);
  }
  assert.equal((await api('DELETE', `/containers/${id}`)).status, 204);
});

test('50 clients doing create → start → rm -f on a user network, 4 rounds: no 500, no phantom folder', async () => {
  const failures: string[] = [];
  for (let round = 0; round < 4; round++) {
    await Promise.all(Array.from({ length: 50 }, async () => {
      const c = await slowApi('POST', '/containers/create', { Image: 'busybox', Cmd: ['sleep', '100'], HostConfig: { NetworkMode: NET } });
      if (c.status !== 201) return void failures.push(`create ${c.status} ${c.body}`);
      const id = c.json().Id;
      const s = await slowApi('POST', `/containers/${id}/start`);
      if (s.status !== 204) failures.push(`start ${s.status} ${s.body}`);
      const r = await slowApi('DELETE', `/containers/${id}?force=1`);
      if (r.status !== 204) failures.push(`rm ${r.status} ${r.body}`);
    }));
  }
  assert.deepEqual(failures, []);
  const ps = (await api('GET', '/containers/json?all=1')).json() as { Id: string }[];
  const left = readdirSync(join(d.dataRoot, 'containers')).filter((f) => /^[a-f0-9]{64}$/.test(f));
  assert.deepEqual(left.filter((f) => !ps.some((c) => c.Id === f)), [], 'no folder without a container');
});
