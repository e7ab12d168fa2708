// A third-party network driver loaded with --plugin-dir: the networks service validates its
// options with its schema, gives its endpoints IPAM addresses, and hands it the namespace to join.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { docker, makeTempDir, REPO, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { removeAllContainers } from './helpers/busybox.js';
import { iptablesState, scrubDaemon } from './helpers/network.js';
import { makeBusyboxRootfs } from './helpers/rootfs.js';

const VETH = join(REPO, 'test/fixtures/plugins/net-veth');
let d: RunningDaemon;
let work: string;
let rulesBefore: string;

before(async () => {
  rulesBefore = iptablesState();
  work = makeTempDir('berth-netdrv-');
  d = await startDaemon({ args: ['--plugin-dir', VETH] });
  await docker(d.socket, ['import', '-c', 'CMD ["sh"]', makeBusyboxRootfs(work).path, 'busybox:latest']);
});

after(async () => {
  if (d) {
    await removeAllContainers(d.socket);
    await d.cleanup();
    scrubDaemon(d.dataRoot, d.execRoot);
  }
  rmSync(work, { recursive: true, force: true });
});

test('docker network create -d veth: options checked by the driver\'s schema, containers get its interface and an IPAM address', async () => {
  const bad = await docker(d.socket, ['network', 'create', '-d', 'veth', '-o', 'veth.colour=red', 'dn'], { expectCode: 'failure' });
  assert.match(bad.stderr, /network driver veth: options\.veth\.colour: unknown key/);
  await docker(d.socket, ['network', 'create', '-d', 'veth', '-o', 'veth.mtu=1400', '--subnet', '10.123.95.0/24', 'dn']);
  const r = await docker(d.socket, ['run', '--rm', '--network', 'dn', 'busybox', 'busybox', 'ip', '-o', 'addr', 'show', 'eth0'], { timeoutMs: 60_000 });
  assert.match(r.stdout, /inet 10\.123\.95\.2\/24/);
  assert.match((await docker(d.socket, ['run', '--rm', '--network', 'dn', 'busybox', 'busybox', 'ip', 'link', 'show', 'eth0'], { timeoutMs: 60_000 })).stdout, /mtu 1400/);
  const unknown = await docker(d.socket, ['network', 'create', '-d', 'nosuch', 'x1'], { expectCode: 'failure' });
  assert.match(unknown.stderr, /plugin "nosuch" not found/);
  await docker(d.socket, ['network', 'rm', 'dn']);
  // A daemon with --bridge none and only this driver touches no iptables rule.
  assert.equal(iptablesState(), rulesBefore);
});
