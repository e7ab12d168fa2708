// The real docker CLI against a real berthd: version, info, events, system df.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { apiRequest, docker, startDaemon, type RunningDaemon, DOCKER_CONFIG } from './helpers/daemon.js';
import { waitFor } from './helpers/poll.js';

let d: RunningDaemon;
before(async () => { d = await startDaemon(); });
after(async () => { await d?.cleanup(); });

test('docker version shows the Server section with Berth version and API version', async () => {
  const r = await docker(d.socket, ['version']);
  assert.equal(r.stderr, '');
  const server = r.stdout.slice(r.stdout.indexOf('Server:'));
  assert.match(server, /^Server: Berth\n Engine:\n {2}Version: {10}0\.1\.0\n/);
  assert.match(server, /API version: {6}1\.44 \(minimum version 1\.24\)/);
  assert.match(server, /OS\/Arch: {10}linux\/(amd64|arm64)/);
  // The CLI 28 (API 1.50) negotiates our maximum, 1.44: the features it turns off below 1.44 stay on.
  assert.match(r.stdout, /API version: {7}1\.44( \(downgraded from 1\.\d+\))?\n/, 'the CLI talks 1.44');
});

test('docker info prints without errors or warnings, with real values', async () => {
  const r = await docker(d.socket, ['info']);
  assert.equal(r.stderr, '', 'no warnings or errors on stderr');
  assert.doesNotMatch(r.stdout, /WARNING|ERROR|error/);
  const info = (await apiRequest(d.socket, 'GET', '/info')).json();
  assert.match(r.stdout, new RegExp(` ID: ${info.ID}\n`));
  assert.match(r.stdout, new RegExp(` Docker Root Dir: ${d.dataRoot}\n`));
  assert.match(r.stdout, new RegExp(` CPUs: ${availableParallelism()}\n`));
  assert.match(r.stdout, / Server Version: 0\.1\.0\n/);
  assert.match(r.stdout, / Total Memory: \d+(\.\d+)?GiB\n/);
  assert.match(r.stdout, / Cgroup Version: [12]\n/);
});

test('the daemon ID is stable across docker info calls and persisted in the data root', async () => {
  const a = await docker(d.socket, ['info', '--format', '{{.ID}}']);
  const b = await docker(d.socket, ['info', '--format', '{{.ID}}']);
  assert.equal(a.stdout, b.stdout);
  assert.match(a.stdout.trim(), /^[0-9a-f-]{36}$/);
  const { readFileSync } = await import('node:fs');
  assert.equal(readFileSync(join(d.dataRoot, 'engine-id'), 'utf8').trim(), a.stdout.trim());
});

test('docker info lists the loaded plugins under Plugins', async () => {
  const r = await docker(d.socket, ['info', '--format', '{{json .Plugins}}']);
  const raw = (await apiRequest(d.socket, 'GET', '/info')).json().Plugins;
  const names = raw.Loaded.map((p: { Name: string }) => p.Name);
  for (const n of ['api-server', 'api-system', 'events', 'metrics']) assert.ok(names.includes(n), `${n} listed`);
  assert.deepEqual(raw.Loaded.find((p: { Name: string }) => p.Name === 'events'), { Name: 'events', Version: '0.1.0', Kind: 'builtin', Provides: ['events'] });
  // As dockerd: the volume drivers by name, local first.
  assert.match(r.stdout, /"Volume":\["local"\]/);
});

test('docker events --since 1 --until 0s ends by itself', async () => {
  const started = Date.now();
  await docker(d.socket, ['events', '--since', '1', '--until', '0s'], { timeoutMs: 15_000 });
  assert.ok(Date.now() - started < 15_000);
});

test('docker events streams live events and replays them with --since/--until', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const cli = spawn('docker', ['-H', `unix://${d.socket}`, 'events', '--filter', 'type=daemon', '--format', '{{json .}}'], {
    env: { ...process.env, DOCKER_CONFIG },
  });
  let out = '';
  cli.stdout.on('data', (c) => (out += c));
  try {
    // Wait until the CLI's subscription is open before making the event.
    await waitFor('the CLI to subscribe to events', async () => (await apiRequest(d.socket, 'GET', '/info')).json().NEventsListener >= 1, { maxTries: 100, intervalMs: 50 });
    d.proc.kill('SIGHUP');
    await waitFor('the reload event in docker events', () => out.includes('reload'), { maxTries: 100, intervalMs: 50 });
  } finally {
    cli.kill('SIGINT');
  }
  const live = JSON.parse(out.trim().split('\n')[0]);
  const id = (await apiRequest(d.socket, 'GET', '/info')).json().ID;
  assert.equal(live.Type, 'daemon');
  assert.equal(live.Action, 'reload');
  assert.equal(live.Actor.ID, id);
  assert.equal(live.scope, 'local');
  const replay = await docker(d.socket, ['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'event=reload']);
  assert.match(replay.stdout, new RegExp(`daemon reload ${id}`));
  const none = await docker(d.socket, ['events', '--since', String(since), '--until', '0s', '--filter', 'type=container']);
  assert.equal(none.stdout, '', 'the type filter keeps daemon events out');
});

test('docker system df prints the usage table', async () => {
  const r = await docker(d.socket, ['system', 'df']);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
  assert.match(r.stdout, /Images\s+0\s+0\s+0B\s+0B/);
  assert.match(r.stdout, /Local Volumes\s+0\s+0\s+0B\s+0B/);
});

test('a docker command for a missing object gets a 404 the CLI prints as dockerd would', async () => {
  const r = await docker(d.socket, ['plugin', 'inspect', 'nosuch'], { expectCode: 'failure' });
  assert.match(r.stderr, /Error response from daemon: page not found|Error: No such plugin: nosuch/);
});
