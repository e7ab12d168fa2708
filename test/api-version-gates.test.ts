// API 1.24–1.44: each version-gated behaviour (plugins/api-server/version-gates.ts) called at the
// versions on both sides of its change, with a real daemon, real containers and the docker CLI.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { apiRequest, docker, makeTempDir, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';
import { poll } from './helpers/poll.js';
import { rawRequest, jsonRequest } from './helpers/raw-http.js';

let d: RunningDaemon;
let work: string;
let tar: string;
const api = (method: string, path: string, body?: object) => apiRequest(d.socket, method, path, body);

before(async () => {
  work = makeTempDir('berth-gates-');
  d = await startDaemon();
  tar = await importBusybox(d.socket, work);
});
after(async () => {
  if (d) {
    await removeAllContainers(d.socket);
    await docker(d.socket, ['network', 'rm', 'gates-net'], { expectCode: 'any' });
    await d.cleanup();
  }
  rmSync(work, { recursive: true, force: true });
});

async function create(version: string, body: object, name?: string): Promise<string> {
  const r = await api('POST', `/v${version}/containers/create${name ? `?name=${name}` : ''}`, { Image: 'busybox', ...body });
  assert.equal(r.status, 201, r.body);
  return r.json().Id;
}
async function exitCode(id: string): Promise<number> {
  const r = await api('POST', `/containers/${id}/wait`);
  return r.json().StatusCode;
}

test('GET /version: API 1.44, minimum 1.24; the CLI 28 talks 1.44; outside the range dockerd\'s 400', async () => {
  const v = (await api('GET', '/version')).json();
  assert.equal(v.ApiVersion, '1.44');
  assert.equal(v.MinAPIVersion, '1.24');
  const cli = await docker(d.socket, ['version', '--format', '{{.Server.APIVersion}} {{.Client.APIVersion}}']);
  assert.match(cli.stdout.trim(), /^1\.44 /);
  assert.equal((await api('GET', '/v1.24/version')).status, 200);
  const old = await api('GET', '/v1.23/version');
  assert.equal(old.status, 400);
  assert.match(old.body, /Minimum supported API version is 1\.24/);
  const young = await api('GET', '/v1.45/version');
  assert.equal(young.status, 400);
  assert.equal(young.json().message, 'client version 1.45 is too new. Maximum supported API version is 1.44');
});

test('/_ping (GET and HEAD) says Swarm: inactive and Builder-Version: 1, at every version', async () => {
  for (const path of ['/_ping', '/v1.24/_ping', '/v1.44/_ping']) {
    for (const method of ['GET', 'HEAD']) {
      const r = await api(method, path);
      assert.equal(r.status, 200);
      assert.equal(r.headers.swarm, 'inactive', `${method} ${path}`);
      assert.equal(r.headers['builder-version'], '1', `${method} ${path}`);
      assert.equal(r.headers['api-version'], '1.44');
    }
  }
});

test('stop and restart ?signal= (1.42): honoured from 1.42, ignored at 1.41; a bad signal is a 400', async () => {
  // PID 1 ignores SIGTERM without a handler; USR1 has one that exits 3.
  const trap = { Cmd: ['sh', '-c', 'trap "exit 3" USR1; while true; do sleep 0.1; done'] };
  const a = await create('1.44', trap);
  assert.equal((await api('POST', `/containers/${a}/start`)).status, 204);
  const bad = await api('POST', `/v1.44/containers/${a}/stop?signal=NOPE&t=1`);
  assert.equal(bad.status, 400);
  assert.equal(bad.json().message, 'Invalid signal: NOPE');
  assert.equal((await api('POST', `/v1.42/containers/${a}/stop?signal=USR1&t=5`)).status, 204);
  assert.equal(await exitCode(a), 3, 'the signal given replaced SIGTERM');

  assert.equal((await api('POST', `/containers/${a}/start`)).status, 204);
  assert.equal((await api('POST', `/v1.41/containers/${a}/stop?signal=USR1&t=1`)).status, 204);
  assert.equal(await exitCode(a), 137, 'at 1.41 the parameter is ignored: SIGTERM, then SIGKILL');

  // restart: the first run ends by USR1 (3), the container runs again after.
  assert.equal((await api('POST', `/containers/${a}/start`)).status, 204);
  assert.equal((await api('POST', `/v1.44/containers/${a}/restart?signal=SIGUSR1&t=5`)).status, 204);
  const events = await docker(d.socket, ['events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', `container=${a}`, '--filter', 'event=die', '--format', '{{.Actor.Attributes.exitCode}}']);
  assert.deepEqual(events.stdout.trim().split('\n'), ['3', '137', '3']);
  assert.equal((await api('GET', `/containers/${a}/json`)).json().State.Running, true);
});

test('wait with an unknown condition (1.30): 400 from 1.30, not-running below', async () => {
  const id = await create('1.44', { Cmd: ['true'] });
  const bad = await api('POST', `/v1.30/containers/${id}/wait?condition=bogus`);
  assert.equal(bad.status, 400);
  assert.equal(bad.json().message, 'invalid condition: "bogus"');
  const old = await api('POST', `/v1.29/containers/${id}/wait?condition=bogus`);
  assert.equal(old.status, 200);
  assert.equal(old.json().StatusCode, 0, 'a created container is not running: the wait ends at once');
});

test('logs, attach and exec start Content-Type (1.42): multiplexed or raw by Tty; 1.41 as before', async () => {
  const plain = await create('1.44', { Cmd: ['sh', '-c', 'echo hi; sleep 30'] });
  const tty = await create('1.44', { Tty: true, Cmd: ['sh', '-c', 'echo hi; sleep 30'] });
  for (const id of [plain, tty]) assert.equal((await api('POST', `/containers/${id}/start`)).status, 204);
  const logType = async (v: string, id: string) => (await api('GET', `/v${v}/containers/${id}/logs?stdout=1`)).headers['content-type'];
  assert.equal(await logType('1.42', plain), 'application/vnd.docker.multiplexed-stream');
  assert.equal(await logType('1.42', tty), 'application/vnd.docker.raw-stream');
  assert.equal(await logType('1.41', plain), undefined);

  const upgradeType = async (path: string, body = '') => {
    const r = await rawRequest(d.socket, jsonRequest('POST', path, body, ['Upgrade: tcp']).replace('Connection: close', 'Connection: Upgrade'), 3_000);
    assert.equal(r.status, 101, r.text);
    return /\r\ncontent-type: ([^\r]*)/i.exec(r.text)?.[1];
  };
  assert.equal(await upgradeType(`/v1.42/containers/${plain}/attach?stream=1&stdout=1`), 'application/vnd.docker.multiplexed-stream');
  assert.equal(await upgradeType(`/v1.42/containers/${tty}/attach?stream=1&stdout=1`), 'application/vnd.docker.raw-stream');
  assert.equal(await upgradeType(`/v1.41/containers/${plain}/attach?stream=1&stdout=1`), 'application/vnd.docker.raw-stream');

  const exec = async (id: string, body: object) => (await api('POST', `/containers/${id}/exec`, { AttachStdout: true, Cmd: ['true'], ...body })).json().Id;
  assert.equal(await upgradeType(`/v1.42/exec/${await exec(plain, {})}/start`, '{}'), 'application/vnd.docker.multiplexed-stream');
  assert.equal(await upgradeType(`/v1.42/exec/${await exec(plain, { Tty: true })}/start`, '{"Tty":true}'), 'application/vnd.docker.raw-stream');
  assert.equal(await upgradeType(`/v1.41/exec/${await exec(plain, {})}/start`, '{}'), 'application/vnd.docker.raw-stream');
});

test('ConsoleSize on create and exec (1.42): the terminal has the size from the start; ignored at 1.41', async () => {
  const sized = async (v: string) => {
    const id = await create(v, { Tty: true, Cmd: ['busybox', 'stty', 'size'], HostConfig: { ConsoleSize: [33, 111] } });
    assert.equal((await api('POST', `/containers/${id}/start`)).status, 204);
    await exitCode(id);
    return (await docker(d.socket, ['logs', id])).stdout.trim();
  };
  assert.equal(await sized('1.42'), '33 111');
  assert.notEqual(await sized('1.41'), '33 111');

  const host = await create('1.44', { Cmd: ['sleep', '30'] });
  assert.equal((await api('POST', `/containers/${host}/start`)).status, 204);
  const execSize = async (v: string) => {
    const r = await api('POST', `/v${v}/containers/${host}/exec`, { AttachStdin: true, AttachStdout: true, Tty: true, Cmd: ['sh', '-c', 'sleep 0.3; busybox stty size'], ConsoleSize: [21, 77] });
    assert.equal(r.status, 201, r.body);
    const out = await rawRequest(d.socket, jsonRequest('POST', `/v${v}/exec/${r.json().Id}/start`, '{"Tty":true}', ['Upgrade: tcp']).replace('Connection: close', 'Connection: Upgrade'), 5_000);
    return out.text.slice(out.text.indexOf('\r\n\r\n') + 4).trim();
  };
  assert.equal(await execSize('1.42'), '21 77');
  assert.notEqual(await execSize('1.41'), '21 77');
});

test('Healthcheck.StartInterval (1.44): kept from 1.44, dropped at 1.43', async () => {
  const hc = { Healthcheck: { Test: ['CMD', 'true'], StartPeriod: 10_000_000_000, StartInterval: 1_000_000_000 } };
  const at = async (v: string) => (await api('GET', `/containers/${await create(v, hc)}/json`)).json().Config.Healthcheck.StartInterval;
  assert.equal(await at('1.44'), 1_000_000_000);
  assert.equal(await at('1.43'), undefined);
});

test('images: untagged RepoTags [] (1.43), VirtualSize gone (1.44), shared-size (1.42), until (all versions)', async () => {
  const id = (await api('GET', '/images/busybox/json')).json().Id;
  await docker(d.socket, ['tag', 'busybox', 'busybox:other']);
  // An untagged image: the same layer imported again with another change, no tag.
  const untagged = (await docker(d.socket, ['import', '-c', 'ENV X=1', tar])).stdout.trim();
  const find = async (v: string, q = '') => ((await api('GET', `/v${v}/images/json${q}`)).json() as any[]);
  const of = (list: any[], wanted: string) => list.find((i) => i.Id === wanted);

  assert.deepEqual(of(await find('1.43'), untagged).RepoTags, []);
  assert.deepEqual(of(await find('1.43'), untagged).RepoDigests, []);
  assert.deepEqual(of(await find('1.42'), untagged).RepoTags, ['<none>:<none>']);
  assert.deepEqual(of(await find('1.42'), untagged).RepoDigests, ['<none>@<none>']);

  assert.equal(of(await find('1.44'), id).VirtualSize, undefined);
  assert.equal(of(await find('1.43'), id).VirtualSize, of(await find('1.43'), id).Size);
  const inspect = async (v: string) => (await api('GET', `/v${v}/images/${id}/json`)).json();
  assert.equal((await inspect('1.44')).VirtualSize, undefined);
  assert.equal((await inspect('1.43')).VirtualSize, (await inspect('1.43')).Size);
  // Kept at 1.44: docker-compose 1.29 negotiates 1.44 and reads ContainerConfig.
  assert.ok('ContainerConfig' in await inspect('1.44') && 'Container' in await inspect('1.44'));

  assert.equal(of(await find('1.41', '?shared-size=1'), id).SharedSize, -1);
  assert.equal(of(await find('1.42'), id).SharedSize, -1);
  const shared = of(await find('1.42', '?shared-size=1'), id).SharedSize;
  assert.ok(shared > 0, `busybox shares its layer with the untagged import: ${shared}`);

  const until = (t: string) => find('1.44', `?filters=${encodeURIComponent(JSON.stringify({ until: [t] }))}`);
  assert.equal((await until('1')).length, 0);
  assert.ok((await until(String(Math.ceil(Date.now() / 1000) + 3600))).length >= 2);
  assert.ok((await until('-1h')).length >= 2, 'a Go duration counts back from now');
  assert.equal((await api('GET', `/images/json?filters=${encodeURIComponent('{"until":["soon"]}')}`)).status, 400);
});

test('system/df ?type= (1.42) and VirtualSize (1.44)', async () => {
  const all = (await api('GET', '/v1.41/system/df?type=image')).json();
  assert.deepEqual(Object.keys(all).sort(), ['BuildCache', 'Containers', 'Images', 'LayersSize', 'Volumes']);
  assert.ok(all.Images.every((i: any) => i.VirtualSize === i.Size));
  const images = (await api('GET', '/v1.42/system/df?type=image')).json();
  assert.deepEqual(Object.keys(images).sort(), ['Images', 'LayersSize']);
  const two = (await api('GET', '/v1.44/system/df?type=container&type=volume')).json();
  assert.deepEqual(Object.keys(two).sort(), ['Containers', 'Volumes']);
  assert.ok((await api('GET', '/v1.44/system/df')).json().Images.every((i: any) => !('VirtualSize' in i)));
  const bad = await api('GET', '/v1.42/system/df?type=bogus');
  assert.equal(bad.status, 400);
  assert.equal(bad.json().message, 'unknown object type: bogus');
  await docker(d.socket, ['system', 'df']);
});

test('DNSNames (1.44) in a user network\'s endpoint; absent at 1.43', async () => {
  await docker(d.socket, ['network', 'create', 'gates-net']);
  const id = await create('1.44', { Cmd: ['sleep', '30'], HostConfig: { NetworkMode: 'gates-net' }, NetworkingConfig: { EndpointsConfig: { 'gates-net': { Aliases: ['web'] } } } }, 'dns-one');
  const net = async (v: string) => (await api('GET', `/v${v}/containers/${id}/json`)).json().NetworkSettings.Networks['gates-net'];
  assert.deepEqual((await net('1.44')).DNSNames, ['dns-one', 'web', id.slice(0, 12)]);
  assert.equal('DNSNames' in await net('1.43'), false);
});

test('/info Runtimes with status (1.44); without it at 1.43', async () => {
  const runtimes = async (v: string) => (await api('GET', `/v${v}/info`)).json().Runtimes;
  const now = await runtimes('1.44');
  assert.ok(Object.keys(now).length > 0);
  for (const r of Object.values(now) as any[]) assert.equal(typeof r.status, 'object');
  for (const r of Object.values(await runtimes('1.43')) as any[]) assert.equal('status' in r, false);
  assert.match((await docker(d.socket, ['info', '--format', '{{.Swarm.LocalNodeState}}'])).stdout, /inactive/);
});

test('what API 1.42–1.44 adds and Berth cannot honour is refused with 400 naming it, nothing created', async () => {
  const before = (await api('GET', '/containers/json?all=1')).json().length;
  const cases: [object, RegExp][] = [
    [{ HostConfig: { Annotations: { a: 'b' } } }, /HostConfig\.Annotations: not supported by Berth/],
    [{ HostConfig: { Mounts: [{ Type: 'bind', Source: '/tmp', Target: '/x', BindOptions: { CreateMountpoint: true } }] } }, /HostConfig\.Mounts\[0\]\.BindOptions\.CreateMountpoint/],
    [{ HostConfig: { Mounts: [{ Type: 'bind', Source: '/tmp', Target: '/x', ReadOnly: true, BindOptions: { ReadOnlyNonRecursive: true } }] } }, /BindOptions\.ReadOnlyNonRecursive/],
    [{ HostConfig: { Mounts: [{ Type: 'bind', Source: '/tmp', Target: '/x', ReadOnly: true, BindOptions: { ReadOnlyForceRecursive: true } }] } }, /BindOptions\.ReadOnlyForceRecursive/],
    [{ NetworkingConfig: { EndpointsConfig: { bridge: { MacAddress: '02:42:ac:11:00:99' } } } }, /NetworkingConfig\.EndpointsConfig\.bridge\.MacAddress/],
  ];
  for (const [body, message] of cases) {
    for (const v of ['1.41', '1.44']) {
      const r = await api('POST', `/v${v}/containers/create`, { Image: 'busybox', ...body });
      assert.equal(r.status, 400, `${v} ${JSON.stringify(body)}: ${r.body}`);
      assert.match(r.json().message, message);
    }
  }
  assert.equal((await api('GET', '/containers/json?all=1')).json().length, before);
  const id = await create('1.44', { Cmd: ['sleep', '30'] });
  const connect = await api('POST', '/v1.44/networks/bridge/connect', { Container: id, EndpointConfig: { MacAddress: '02:42:ac:11:00:98' } });
  assert.equal(connect.status, 400);
  assert.match(connect.json().message, /EndpointConfig\.MacAddress: not supported by Berth/);
  await poll(async () => (await api('GET', '/_ping')).status === 200);
});
