// Debian's docker-compose (1.29, through docker-py) against Berth: a two-service project whose
// client fetches from a busybox httpd by service name; `down` removes containers and network.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { docker, makeTempDir, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { compose as runCompose } from './helpers/compose.js';
import { importBusybox } from './helpers/busybox.js';
import { assertSubnetsFree, deleteLink, iptablesState, links, makeBridge, stopNetworkDaemon } from './helpers/network.js';
import { poll } from './helpers/poll.js';

const BRIDGE = 'bt-ncmp';
let d: RunningDaemon;
let work: string;
let rulesBefore: string;
let linksBefore: string[];

const COMPOSE = `version: "2.4"
services:
  web:
    image: busybox
    command: busybox httpd -f -p 8080 -h /www
  client:
    image: busybox
    command: sh -c 'i=0; while [ $$i -lt 100 ]; do busybox wget -qO- http://web:8080/ && break; i=$$((i+1)); sleep 0.1; done; sleep 600'
    depends_on: [web]
networks:
  default:
    ipam:
      config:
        - subnet: 10.123.92.0/24
`;

const compose = (args: string[]) => runCompose('bcmp', work, d.socket, args);

before(async () => {
  // bin/setup installs Debian's docker-compose: missing, the test fails rather than skips.
  assert.equal(spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status, 0, 'docker-compose is not installed (bin/setup installs it)');
  assertSubnetsFree(['10.123.91.', '10.123.92.']);
  rulesBefore = iptablesState();
  linksBefore = links();
  makeBridge(BRIDGE, '10.123.91.1/24');
  work = makeTempDir('berth-netcmp-');
  writeFileSync(join(work, 'docker-compose.yml'), COMPOSE);
  d = await startDaemon({ args: ['--bridge', BRIDGE] });
  await importBusybox(d.socket, join(work, 'img'), { files: { 'www/index.html': 'served to compose\n' } });
});

after(async () => {
  if (d) await stopNetworkDaemon(d);
  deleteLink(BRIDGE);
  rmSync(work, { recursive: true, force: true });
});

test('docker-compose up -d: the client fetches from the web service by name; down removes containers and network', async () => {
  const up = await compose(['up', '-d']);
  assert.equal(up.code, 0, up.out);
  let logs = '';
  await poll(async () => (logs = (await compose(['logs', '--no-color', 'client'])).out).includes('served to compose'), { maxTries: 50, intervalMs: 200 });
  assert.match(logs, /served to compose/);
  assert.equal((await docker(d.socket, ['network', 'ls', '--format', '{{.Name}}', '--filter', 'name=bcmp_default'])).stdout.trim(), 'bcmp_default');
  const down = await compose(['down']);
  assert.equal(down.code, 0, down.out);
  assert.equal((await docker(d.socket, ['ps', '-aq'])).stdout.trim(), '');
  assert.equal((await docker(d.socket, ['network', 'ls', '-q', '--filter', 'type=custom'])).stdout.trim(), '');
  assert.equal(await d.stop(), 0);
  assert.equal(iptablesState(), rulesBefore);
  assert.deepEqual(links().filter((l) => !linksBefore.includes(l)), [BRIDGE]);
});
