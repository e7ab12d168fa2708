// Swarm as an inactive dockerd: every cluster route answers 503 in dockerd's words, /_ping and
// /info say inactive, and `docker swarm init` fails saying Berth runs no swarm.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { apiRequest, docker, startDaemon, type RunningDaemon } from './helpers/daemon.js';

let d: RunningDaemon;
before(async () => { d = await startDaemon(); });
after(async () => { await d?.cleanup(); });

const NOT_A_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

test('cluster routes answer 503 as a dockerd outside a swarm', async () => {
  const cases: [string, string, string][] = [
    ['GET', '/v1.44/swarm', NOT_A_MANAGER],
    ['POST', '/v1.44/swarm/leave?force=1', 'This node is not part of a swarm'],
    ['POST', '/v1.44/swarm/unlock', 'This node is not part of a swarm'],
    ['GET', '/v1.44/swarm/unlockkey', NOT_A_MANAGER],
    ['POST', '/v1.44/swarm/update?version=1', NOT_A_MANAGER],
    ['GET', '/v1.44/services', NOT_A_MANAGER],
    ['GET', '/v1.44/nodes', NOT_A_MANAGER],
    ['GET', '/v1.44/tasks', NOT_A_MANAGER],
    ['GET', '/v1.44/secrets', NOT_A_MANAGER],
    ['GET', '/v1.44/configs', NOT_A_MANAGER],
    ['POST', '/v1.44/services/create', NOT_A_MANAGER],
    ['GET', '/v1.44/services/web/logs', NOT_A_MANAGER],
    ['DELETE', '/v1.44/nodes/abc', NOT_A_MANAGER],
    ['GET', '/nodes/abc', NOT_A_MANAGER],
  ];
  for (const [method, path, message] of cases) {
    const r = await apiRequest(d.socket, method, path);
    assert.equal(r.status, 503, `${method} ${path}: ${r.body}`);
    assert.deepEqual(r.json(), { message }, `${method} ${path}`);
  }
  const init = await apiRequest(d.socket, 'POST', '/v1.44/swarm/init', { ListenAddr: '0.0.0.0:2377' });
  assert.equal(init.status, 503);
  assert.match(init.json().message, /Berth runs no swarm/);
});

test('HEAD /_ping, docker info and docker swarm say inactive; swarm init fails clearly', async () => {
  const ping = await apiRequest(d.socket, 'HEAD', '/_ping');
  assert.equal(ping.headers.swarm, 'inactive');
  assert.equal(ping.headers['builder-version'], '1');
  const info = (await apiRequest(d.socket, 'GET', '/v1.44/info')).json();
  assert.deepEqual(info.Swarm, { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null });
  assert.match((await docker(d.socket, ['info'])).stdout, /Swarm: inactive/);
  const init = await docker(d.socket, ['swarm', 'init'], { expectCode: 'failure' });
  assert.match(init.stderr, /Berth runs no swarm/);
  const leave = await docker(d.socket, ['swarm', 'leave', '--force'], { expectCode: 'failure' });
  assert.match(leave.stderr, /This node is not part of a swarm/);
  const ls = await docker(d.socket, ['service', 'ls'], { expectCode: 'failure' });
  assert.match(ls.stderr, /This node is not a swarm manager/);
});
