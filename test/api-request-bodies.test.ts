// Request bodies checked against the spec of the request's version, as dockerd's Go decoder reads
// them: each malformed body gets 400 and dockerd's words, nothing is stored, and the lists still
// work afterwards; a record stored with a wrong type before the checks is read tolerantly.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { apiRequest, docker, makeTempDir, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';

let d: RunningDaemon;
let work: string;
let target: string;
const api = (method: string, path: string, body?: object | string) => apiRequest(d.socket, method, path, body);

before(async () => {
  work = makeTempDir('berth-bodies-');
  d = await startDaemon();
  await importBusybox(d.socket, work);
  target = (await api('POST', '/containers/create?name=target', { Image: 'busybox', Cmd: ['sleep', '60'] })).json().Id;
  assert.equal((await api('POST', `/containers/${target}/start`)).status, 204);
});
after(async () => {
  if (d) {
    await removeAllContainers(d.socket);
    await d.cleanup();
  }
  rmSync(work, { recursive: true, force: true });
});

const C = (extra: object) => ({ Image: 'busybox', ...extra });
const HC = (host: object) => C({ HostConfig: host });
const type = (what: string, field: string, goType: string) => `json: cannot unmarshal ${what} into Go struct field ${field} of type ${goType}`;

type Case = [what: string, path: string, body: object | string, message: string | RegExp];
const create = '/v1.44/containers/create';
const CASES: Case[] = [
  ['Memory as a string', create, HC({ Memory: 'abc' }), type('string', 'Resources.HostConfig.Memory', 'int64')],
  ['CpuShares as a string', create, HC({ CpuShares: 'x' }), type('string', 'Resources.HostConfig.CpuShares', 'int')],
  ['Cmd as a number', create, C({ Cmd: 5 }), type('number', 'Config.Cmd', 'string')],
  ['Cmd with a number in it', create, C({ Cmd: ['a', 5] }), type('array', 'Config.Cmd', 'string')],
  ['Entrypoint as an object', create, C({ Entrypoint: { a: 1 } }), type('object', 'Config.Entrypoint', 'string')],
  ['a numeric label', create, C({ Labels: { a: 1 } }), type('number', 'Config.Labels', 'string')],
  ['Labels as a list', create, C({ Labels: ['a=b'] }), type('array', 'Config.Labels', 'map[string]string')],
  ['Image as a number', create, C({ Image: 123 }), type('number', 'Config.Image', 'string')],
  ['Env as an object', create, C({ Env: { A: 'b' } }), type('object', 'Config.Env', '[]string')],
  ['Env with a number', create, C({ Env: ['A=b', 1] }), type('number', 'Config.Env', 'string')],
  ['Tty as a string', create, C({ Tty: 'yes' }), type('string', 'Config.Tty', 'bool')],
  ['OpenStdin as a number', create, C({ OpenStdin: 1 }), type('number', 'Config.OpenStdin', 'bool')],
  ['Hostname as a list', create, C({ Hostname: ['a'] }), type('array', 'Config.Hostname', 'string')],
  ['User as a number', create, C({ User: 0 }), type('number', 'Config.User', 'string')],
  ['WorkingDir as a bool', create, C({ WorkingDir: true }), type('bool', 'Config.WorkingDir', 'string')],
  ['StopTimeout as a string', create, C({ StopTimeout: '10' }), type('string', 'Config.StopTimeout', 'int')],
  ['Healthcheck.Interval as a string', create, C({ Healthcheck: { Interval: '1s' } }), type('string', 'HealthConfig.Healthcheck.Interval', 'int64')],
  ['Healthcheck.Test as a number', create, C({ Healthcheck: { Test: 1 } }), type('number', 'HealthConfig.Healthcheck.Test', 'string')],
  ['HostConfig as a string', create, C({ HostConfig: 'x' }), type('string', 'CreateRequest.HostConfig', 'HostConfig')],
  ['Memory with a fraction', create, HC({ Memory: 1.5 }), type('number 1.5', 'Resources.HostConfig.Memory', 'int64')],
  ['Memory beyond int64', create, HC({ Memory: 1e30 }), type('number 1e+30', 'Resources.HostConfig.Memory', 'int64')],
  ['BlkioWeight negative (uint16)', create, HC({ BlkioWeight: -1 }), type('number -1', 'Resources.HostConfig.BlkioWeight', 'uint16')],
  ['BlkioWeight beyond uint16', create, HC({ BlkioWeight: 70000 }), type('number 70000', 'Resources.HostConfig.BlkioWeight', 'uint16')],
  ['Privileged as a string', create, HC({ Privileged: 'true' }), type('string', 'HostConfig.HostConfig.Privileged', 'bool')],
  ['Binds as a string', create, HC({ Binds: '/a:/b' }), type('string', 'HostConfig.HostConfig.Binds', '[]string')],
  ['PortBindings host port as a number', create, HC({ PortBindings: { '80/tcp': [{ HostPort: 8080 }] } }), type('number', 'PortBinding.HostConfig.PortBindings.HostPort', 'string')],
  ['RestartPolicy name unknown', create, HC({ RestartPolicy: { Name: 'sometimes' } }), "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"],
  ['RestartPolicy retry count as a string', create, HC({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: '3' } }), type('string', 'RestartPolicy.HostConfig.RestartPolicy.MaximumRetryCount', 'int')],
  ['Mount type unknown', create, HC({ Mounts: [{ Type: 'nfs', Target: '/x' }] }), 'invalid mount config for type "nfs": mount type unknown'],
  ['Bind propagation unknown', create, HC({ Mounts: [{ Type: 'bind', Source: '/tmp', Target: '/x', BindOptions: { Propagation: 'sideways' } }] }), 'invalid propagation mode: sideways'],
  ['CgroupnsMode unknown', create, HC({ CgroupnsMode: 'shared' }), 'invalid cgroup namespace mode: shared'],
  ['Isolation unknown', create, HC({ Isolation: 'vm' }), "invalid isolation (vm): linux only supports 'default'"],
  ['two enums at once: all reported', create, HC({ CgroupnsMode: 'shared', Isolation: 'vm' }), "invalid cgroup namespace mode: shared\ninvalid isolation (vm): linux only supports 'default'"],
  ['EndpointsConfig aliases as a string', create, C({ NetworkingConfig: { EndpointsConfig: { bridge: { Aliases: 'a' } } } }), type('string', 'EndpointSettings.NetworkingConfig.EndpointsConfig.Aliases', '[]string')],
  ['the body a list', create, '[1,2]', 'json: cannot unmarshal array into Go value of type CreateRequest'],
  ['the body a string', create, '"x"', 'json: cannot unmarshal string into Go value of type CreateRequest'],
  ['API 1.41: Memory as a string', '/v1.41/containers/create', HC({ Memory: 'abc' }), type('string', 'Resources.HostConfig.Memory', 'int64')],
  ['update: Memory as a string', `/v1.44/containers/target/update`, { Memory: 'abc' }, type('string', 'Resources.Memory', 'int64')],
  ['update: CpuShares as a bool', `/v1.44/containers/target/update`, { CpuShares: true }, type('bool', 'Resources.CpuShares', 'int')],
  ['update: PidsLimit with a fraction', `/v1.44/containers/target/update`, { PidsLimit: 2.5 }, type('number 2.5', 'Resources.PidsLimit', 'int64')],
  ['update: restart policy unknown', `/v1.44/containers/target/update`, { RestartPolicy: { Name: 'maybe' } }, "invalid restart policy: unknown policy 'maybe'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"],
  ['network create: Name as a number', '/v1.44/networks/create', { Name: 5 }, type('number', 'CreateRequest.Name', 'string')],
  ['network create: Internal as a string', '/v1.44/networks/create', { Name: 'n1', Internal: 'yes' }, type('string', 'CreateRequest.Internal', 'bool')],
  ['network create: Labels with a number', '/v1.44/networks/create', { Name: 'n1', Labels: { a: 1 } }, type('number', 'CreateRequest.Labels', 'string')],
  ['network create: IPAM.Config as an object', '/v1.44/networks/create', { Name: 'n1', IPAM: { Config: { Subnet: '10.9.0.0/24' } } }, type('object', 'IPAM.IPAM.Config', '[]IPAMConfig')],
  ['network create: Options with a bool', '/v1.44/networks/create', { Name: 'n1', Options: { mtu: true } }, type('bool', 'CreateRequest.Options', 'string')],
  ['network connect: Container as a number', '/v1.44/networks/bridge/connect', { Container: 5 }, type('number', 'ConnectOptions.Container', 'string')],
  ['network connect: EndpointConfig as a list', '/v1.44/networks/bridge/connect', { Container: 'target', EndpointConfig: [] }, type('array', 'ConnectOptions.EndpointConfig', 'EndpointSettings')],
  ['network disconnect: Force as a string', '/v1.44/networks/bridge/disconnect', { Container: 'target', Force: 'yes' }, type('string', 'DisconnectOptions.Force', 'bool')],
  ['exec: Cmd as a number', '/v1.44/containers/target/exec', { Cmd: 1 }, type('number', 'ExecOptions.Cmd', '[]string')],
  ['exec: Tty as a string', '/v1.44/containers/target/exec', { Cmd: ['true'], Tty: 'no' }, type('string', 'ExecOptions.Tty', 'bool')],
  ['exec: Env as an object', '/v1.44/containers/target/exec', { Cmd: ['true'], Env: { A: 'b' } }, type('object', 'ExecOptions.Env', '[]string')],
  ['exec: ConsoleSize negative', '/v1.44/containers/target/exec', { Cmd: ['true'], ConsoleSize: [-1, 80] }, type('number -1', 'ExecOptions.ConsoleSize', 'uint')],
];

test(`${CASES.length} malformed bodies: 400 with dockerd's message, nothing stored, lists still work`, async () => {
  assert.ok(CASES.length >= 40);
  const containersBefore = (await api('GET', '/containers/json?all=1')).json().length;
  const networksBefore = (await api('GET', '/networks')).json().length;
  const execBefore = (await docker(d.socket, ['ps', '-a', '--format', '{{.Names}}'])).stdout;
  const failures: string[] = [];
  for (const [what, path, body, message] of CASES) {
    const r = await api('POST', path, body);
    const got = r.status === 400 ? r.json().message : `${r.status} ${r.body}`;
    const ok = r.status === 400 && (typeof message === 'string' ? got === message : message.test(got));
    if (!ok) failures.push(`${what}: ${JSON.stringify(got)}\n   wanted ${JSON.stringify(String(message))}`);
  }
  assert.deepEqual(failures, []);
  assert.equal((await api('GET', '/containers/json?all=1')).json().length, containersBefore, 'no container stored');
  assert.equal((await api('GET', '/networks')).json().length, networksBefore, 'no network stored');
  assert.equal((await docker(d.socket, ['ps', '-a', '--format', '{{.Names}}'])).stdout, execBefore);
  await docker(d.socket, ['system', 'df']);
  // The target's resources were not touched by the refused updates.
  assert.equal((await api('GET', '/containers/target/json')).json().HostConfig.Memory ?? 0, 0);
});

test('what dockerd accepts still passes: strslice strings, nulls, unknown keys, the CLI\'s -1 and ""', async () => {
  const r = await api('POST', '/v1.44/containers/create', {
    Image: 'busybox', Cmd: 'true', Entrypoint: null, Labels: null, Unknown: { x: 1 },
    HostConfig: { MemorySwappiness: -1, Isolation: '', RestartPolicy: { Name: '' }, CgroupnsMode: '' },
  });
  assert.equal(r.status, 201, r.body);
  const c = (await api('GET', `/containers/${r.json().Id}/json`)).json();
  assert.deepEqual(c.Config.Cmd, ['true'], 'dockerd stores "true" as ["true"]');
});

test('a record stored with a numeric label before the checks: ps -a, system df and inspect still work', async () => {
  const id = (await api('POST', '/containers/create?name=legacy', { Image: 'busybox', Labels: { a: 'x' } })).json().Id;
  assert.equal(await d.stop(), 0);
  const file = join(d.dataRoot, 'containers', id, 'config.v2.json');
  const rec = JSON.parse(readFileSync(file, 'utf8'));
  rec.Config.Labels = { a: 1, b: true };
  writeFileSync(file, JSON.stringify(rec));
  d = await startDaemon({ dir: d.dir });
  const ps = await docker(d.socket, ['ps', '-a', '--filter', 'label=a=1', '--format', '{{.Names}} {{.Labels}}']);
  assert.match(ps.stdout, /^legacy a=1,b=true|^legacy b=true,a=1/);
  await docker(d.socket, ['system', 'df', '-v']);
  assert.deepEqual((await api('GET', `/containers/${id}/json`)).json().Config.Labels, { a: '1', b: 'true' });
});
