// Plugin contracts: every job handler declares its payload schema, and container.create's is the
// Engine API's own (ContainerConfig, HostConfig, NetworkingConfig as dockerd decodes them), so a
// malformed create body is refused with a 400 naming the field before anything is stored.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { CommandInfo } from '../core/engine.js';
import { apiRequest, docker, makeTempDir, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { importBusybox } from './helpers/busybox.js';
import { startInProcessDaemon } from './helpers/in-process.js';

let d: RunningDaemon;
let work: string;
before(async () => {
  work = makeTempDir('berth-job-schemas-');
  d = await startDaemon();
  await importBusybox(d.socket, work);
});
after(async () => {
  await d?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

const create = (body: unknown, name?: string) =>
  apiRequest(d.socket, 'POST', `/containers/create${name ? `?name=${name}` : ''}`, JSON.stringify(body));
const listAll = async () => {
  const r = await apiRequest(d.socket, 'GET', '/containers/json?all=1');
  assert.equal(r.status, 200, r.body);
  return (r.json() as { Id: string }[]).map((c) => c.Id).sort();
};

test('malformed create bodies get a 400 naming the field in dockerd\'s words, and nothing is stored', async () => {
  const before = await listAll();
  const cases: [unknown, RegExp][] = [
    [{ Image: 123 }, /Go struct field Config\.Image of type string/],
    [{ Image: 'busybox', Cmd: 5 }, /Go struct field Config\.Cmd of type string/],
    [{ Image: 'busybox', HostConfig: { Memory: 'abc' } }, /^json: cannot unmarshal string into Go struct field Resources\.HostConfig\.Memory of type int64$/],
    [{ Image: 'busybox', Labels: { tier: 1 } }, /Go struct field Config\.Labels of type string/],
    [{ Image: 'busybox', Env: { A: '1' } }, /cannot unmarshal object into Go struct field Config\.Env of type \[\]string/],
    [{ Image: 'busybox', Healthcheck: { Interval: '1s' } }, /Go struct field HealthConfig\.Healthcheck\.Interval of type int64/],
    [{ Image: 'busybox', NetworkingConfig: { EndpointsConfig: { bridge: { Aliases: 'web' } } } }, /Go struct field EndpointSettings\.NetworkingConfig\.EndpointsConfig\.Aliases of type \[\]string/],
    [['busybox'], /cannot unmarshal array into Go value of type CreateRequest/],
  ];
  for (const [body, field] of cases) {
    const r = await create(body, 'malformed');
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.body}`);
    assert.match(r.json().message, field, JSON.stringify(body));
  }
  assert.deepEqual(await listAll(), before, 'no container was stored');
  const ps = await docker(d.socket, ['ps', '-a', '--format', '{{.Names}}']);
  assert.doesNotMatch(ps.stdout, /malformed/);
  // The name was never taken: a valid create under it works.
  const ok = await create({ Image: 'busybox', Cmd: ['true'] }, 'malformed');
  assert.equal(ok.status, 201, ok.body);
  await apiRequest(d.socket, 'DELETE', '/containers/malformed');
});

test('what dockerd\'s decoder accepts still passes: null anywhere, unknown keys, the CLI\'s own body', async () => {
  const r = await create({
    Image: 'busybox', Cmd: null, Entrypoint: null, Env: null, Labels: null, Hostname: null, SomethingNew: { x: 1 },
    HostConfig: { Memory: null, MemorySwappiness: -1, Isolation: '', ConsoleSize: [0, 0], Binds: null, FutureField: true },
    NetworkingConfig: { EndpointsConfig: {} },
  }, 'lenient');
  assert.equal(r.status, 201, r.body);
  const c = (await apiRequest(d.socket, 'GET', '/containers/lenient/json')).json();
  assert.deepEqual(c.Config.Cmd, ['sh'], 'a null Cmd leaves the image\'s');
  assert.equal((await apiRequest(d.socket, 'DELETE', '/containers/lenient')).status, 204);
  // docker create/run build their own bodies: they pass as before.
  await docker(d.socket, ['create', '--name', 'from-cli', '-m', '64m', '-e', 'A=1', '-l', 'k=v', '--health-cmd', 'true', 'busybox', 'echo', 'hi']);
  await docker(d.socket, ['rm', 'from-cli']);
});

test('a string Cmd, Entrypoint or Healthcheck.Test is stored as a list of that one string (dockerd\'s strslice)', async () => {
  const r = await create({ Image: 'busybox', Cmd: 'true', Entrypoint: 'env', Healthcheck: { Test: 'NONE' } }, 'strslice');
  assert.equal(r.status, 201, r.body);
  const c = (await apiRequest(d.socket, 'GET', '/containers/strslice/json')).json();
  assert.deepEqual(c.Config.Cmd, ['true']);
  assert.deepEqual(c.Config.Entrypoint, ['env']);
  assert.deepEqual(c.Config.Healthcheck.Test, ['NONE']);
  assert.equal(c.Path, 'env');
  assert.deepEqual(c.Args, ['true']);
  const ps = await docker(d.socket, ['ps', '-a', '--filter', 'name=strslice', '--format', '{{.Command}}']);
  assert.equal(ps.stdout.trim(), '"env true"');
  assert.equal((await apiRequest(d.socket, 'DELETE', '/containers/strslice')).status, 204);
});

test('the other jobs refuse a malformed payload the same way', async () => {
  const exec = await apiRequest(d.socket, 'POST', '/containers/nope/exec', JSON.stringify({ Cmd: 'ls' }));
  assert.equal(exec.status, 400, exec.body);
  assert.match(exec.json().message, /Go struct field ExecOptions\.Cmd of type \[\]string/);
  const net = await apiRequest(d.socket, 'POST', '/networks/create', JSON.stringify({ Name: 'n1', Labels: { a: 1 } }));
  assert.equal(net.status, 400, net.body);
  assert.match(net.json().message, /Go struct field CreateRequest\.Labels of type string/);
});

test('every registered handler declares a payload schema (the commands job says so)', async () => {
  const dir = makeTempDir('berth-job-schemas-inproc-');
  const daemon = await startInProcessDaemon(dir);
  try {
    const commands = await daemon.engine.run<CommandInfo[]>('commands');
    assert.ok(commands.length >= 50, `all the built-in handlers are listed (${commands.length})`);
    for (const name of ['container.create', 'container.list', 'exec.create', 'network.create', 'image.pull', 'ping', 'commands']) {
      assert.ok(commands.some((c) => c.name === name), `${name} is registered`);
    }
    assert.deepEqual(commands.filter((c) => !c.schema).map((c) => `${c.name} (${c.plugin})`), []);
  } finally {
    await daemon.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
});
