// docker build's network settings with the real CLI, on this test's own bridge: --network NAME (a
// RUN reaches another container by name), --network none (a RUN reaching out fails), --add-host,
// --shm-size; and a docker-compose 1.29 project with `build:`.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { docker, makeTempDir, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { importBusybox } from './helpers/busybox.js';
import { assertSubnetsFree, deleteLink, makeBridge, stopNetworkDaemon } from './helpers/network.js';
import { poll } from './helpers/poll.js';
import { build, writeContext } from './helpers/build.js';

const BRIDGE = 'bt-bld';
let d: RunningDaemon;
let work: string;

const context = (name: string, files: Record<string, string>) => writeContext(join(work, name), files);

before(async () => {
  assertSubnetsFree(['10.123.151.', '10.123.152.', '10.123.153.']);
  makeBridge(BRIDGE, '10.123.151.1/24');
  work = makeTempDir('berth-bldnet-');
  d = await startDaemon({ args: ['--bridge', BRIDGE] });
  await importBusybox(d.socket, join(work, 'img'), { files: { 'www/index.html': 'hello from web\n' } });
  await docker(d.socket, ['network', 'create', '--subnet', '10.123.152.0/24', 'bnet']);
  await docker(d.socket, ['run', '-d', '--name', 'web', '--network', 'bnet', 'busybox', 'busybox', 'httpd', '-f', '-p', '8080', '-h', '/www']);
});

after(async () => {
  if (d) await stopNetworkDaemon(d);
  deleteLink(BRIDGE);
  if (work) rmSync(work, { recursive: true, force: true });
});

test('--network NAME: a RUN fetches from another container by name; --network none: a RUN reaching out fails', async () => {
  const dir = context('net', {
    Dockerfile: 'FROM busybox\nRUN i=0; while [ $i -lt 50 ]; do busybox wget -qO /fetched http://web:8080/ && break; i=$((i+1)); sleep 0.1; done; cat /fetched\nCMD ["cat", "/fetched"]\n',
  });
  const r = await build(d.socket, ['--network', 'bnet', '-t', 'net:1', dir]);
  assert.match(r.stdout, /hello from web/);
  assert.equal((await docker(d.socket, ['run', '--rm', 'net:1'])).stdout, 'hello from web\n');
  const ip = JSON.parse((await docker(d.socket, ['inspect', 'web'])).stdout)[0].NetworkSettings.Networks.bnet.IPAddress;
  const none = context('none', { Dockerfile: `FROM busybox\nRUN busybox wget -T 2 -qO- http://${ip}:8080/\n` });
  const failed = await build(d.socket, ['--network', 'none', none], { expectCode: 'failure' });
  assert.match(failed.stderr, /returned a non-zero code: 1/);
  assert.equal((await docker(d.socket, ['ps', '-aq', '--filter', 'status=exited'])).stdout.trim(), '', 'no build container left');
});

test('--network host: a RUN sees the host\'s interfaces (this test\'s bridge)', async () => {
  const dir = context('host', { Dockerfile: `FROM busybox\nRUN busybox ip link show ${BRIDGE}\n` });
  await build(d.socket, ['--network', 'host', dir]);
  const isolated = await build(d.socket, ['--no-cache', dir], { expectCode: 'failure' });
  assert.match(isolated.stderr, /returned a non-zero code/);
});

test('--add-host and --shm-size reach the RUN containers', async () => {
  const dir = context('hosts', { Dockerfile: 'FROM busybox\nRUN cat /etc/hosts > /hosts.txt && busybox df -k /dev/shm | busybox tail -n 1 > /shm.txt\n' });
  await build(d.socket, ['--add-host', 'buildhost:10.1.2.3', '--shm-size', '32m', '-t', 'hosts:1', dir]);
  const hosts = (await docker(d.socket, ['run', '--rm', 'hosts:1', 'cat', '/hosts.txt'])).stdout;
  assert.match(hosts, /^10\.1\.2\.3\s+buildhost$/m);
  const shm = (await docker(d.socket, ['run', '--rm', 'hosts:1', 'cat', '/shm.txt'])).stdout;
  assert.match(shm, /\s32768\s/, shm);
});

function compose(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn('docker-compose', ['-p', 'bbld', ...args], {
      cwd: join(work, 'compose'), env: { ...process.env, DOCKER_HOST: `unix://${d.socket}`, DOCKER_CONFIG: join(work, 'docker-config') }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (c) => (out += c));
    p.stderr.on('data', (c) => (out += c));
    const timer = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

test('docker-compose 1.29: a service with build: builds and runs', async () => {
  assert.equal(spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status, 0, 'docker-compose is not installed (bin/setup installs it)');
  context('compose', {
    'docker-compose.yml': [
      'version: "2.4"',
      'services:',
      '  app:',
      '    build:',
      '      context: ./app',
      '      args: [GREETING=composed]',
      '    image: bbld-app:latest',
      'networks:',
      '  default:',
      '    ipam:',
      '      config:',
      '        - subnet: 10.123.153.0/24',
      '',
    ].join('\n'),
    'app/Dockerfile': 'FROM busybox\nARG GREETING\nRUN echo "$GREETING" > /greeting\nCMD ["sh", "-c", "cat /greeting; sleep 600"]\n',
  });
  const up = await compose(['up', '-d', '--build']);
  assert.equal(up.code, 0, up.out);
  let logs = '';
  await poll(async () => (logs = (await compose(['logs', '--no-color', 'app'])).out).includes('composed'), { maxTries: 50, intervalMs: 200 });
  assert.match(logs, /composed/);
  const down = await compose(['down']);
  assert.equal(down.code, 0, down.out);
});
