// Daemons side by side on one host share Berth's iptables chains: each removes only its own rules,
// and the chains and jumps go with the last one (issue 13, item 1); a restart puts back exactly
// the rules a daemon had, bridge-level ones included, none twice.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { docker, makeTempDir, onCleanup, startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';
import { assertSubnetsFree, deleteLink, fetchWithin, freePort, iptablesState, makeBridge, scrubDaemon } from './helpers/network.js';

const BRIDGES = { a: { name: 'rn-da', gw: '10.123.231.1/24', subnet: '10.123.231.0/24' }, b: { name: 'rn-db', gw: '10.123.232.1/24', subnet: '10.123.232.0/24' } };
const USER_SUBNET = '10.123.233.0/24';
let work: string;

const tagOf = (d: RunningDaemon) => createHash('sha256').update(d.dataRoot).digest('hex').slice(0, 12);
/** The daemon's own rules as iptables-save prints them (counters dropped), sorted, duplicates kept. */
const rulesOf = (tag: string) => iptablesState().split('\n').filter((l) => l.includes(`berth:${tag}"`)).sort();
/** Every line of filter and nat naming one of Berth's chains: the chains, the jumps, the rules. */
const berthLines = () => iptablesState().split('\n').filter((l) => /\bBERTH\b|BERTH-/.test(l));
/** Rules of daemons other than the given ones (tests running beside this one). */
const othersRules = (tags: string[]) => iptablesState().split('\n').filter((l) => /berth:[0-9a-f]{12}/.test(l) && !tags.some((t) => l.includes(`berth:${t}`)));

before(() => {
  assertSubnetsFree(['10.123.231.', '10.123.232.', '10.123.233.']);
  work = makeTempDir('berth-netdmn-');
});

after(() => {
  for (const b of Object.values(BRIDGES)) deleteLink(b.name);
  rmSync(work, { recursive: true, force: true });
});

/** A daemon on its own bridge serving httpd on a published loopback port; cleaned up whatever happens. */
async function daemonWithWeb(t: { after: (fn: () => unknown) => void }, bridge: { name: string; gw: string }, dir = makeTempDir('berth-netdmn-d-'), extra: string[] = []) {
  makeBridge(bridge.name, bridge.gw);
  const d = await startDaemon({ dir, args: ['--bridge', bridge.name, ...extra] });
  const state = { d };
  const dead = () => state.d.proc.exitCode !== null || state.d.proc.signalCode !== null;
  onCleanup(t, async () => {
    // Killed with live-restore (a failed test): its containers run on; a start without it stops them.
    if (dead() && extra.includes('--live-restore')) state.d = await startDaemon({ dir, args: ['--bridge', bridge.name] }).catch(() => state.d);
    if (!dead()) await removeAllContainers(state.d.socket);
    await state.d.stop();
    scrubDaemon(state.d.dataRoot, state.d.execRoot);
    rmSync(dir, { recursive: true, force: true });
  });
  // A tar per bridge (importBusybox makes one per folder): each serves its own page.
  const own = join(work, bridge.name);
  mkdirSync(own, { recursive: true });
  await importBusybox(d.socket, own, { files: { 'www/index.html': `served on ${bridge.name}\n` } });
  const port = await freePort();
  await docker(d.socket, ['run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:8080`, 'busybox', 'busybox', 'httpd', '-f', '-p', '8080', '-h', '/www'], { timeoutMs: 60_000 });
  assert.equal(await fetchWithin(port), `served on ${bridge.name}\n`);
  return { state, port, dir };
}

test('two daemons side by side: a graceful stop of one leaves every rule of the other and its published port; the last one removes the chains and jumps', async (t) => {
  const a = await daemonWithWeb(t, BRIDGES.a);
  const b = await daemonWithWeb(t, BRIDGES.b);
  const [tagA, tagB] = [tagOf(a.state.d), tagOf(b.state.d)];
  const rulesB = rulesOf(tagB);
  // B's bridge-level rules (NAT, forward, isolation) and its port's (DNAT, accept, hairpin).
  for (const re of [/BERTH-POSTROUTING -s 10\.123\.232\.0\/24 ! -o rn-db .* -j MASQUERADE/, /BERTH-FORWARD -i rn-db ! -o rn-db .* -j ACCEPT/,
    /BERTH-FORWARD -o rn-db -m conntrack/, /BERTH-ISOLATION-2 -o rn-db .* -j DROP/, new RegExp(`--dport ${b.port} .*-j DNAT`)]) {
    assert.ok(rulesB.some((l) => re.test(l)), `daemon B has a rule like ${re}:\n${rulesB.join('\n')}`);
  }
  assert.ok(rulesOf(tagA).length > 0);

  assert.equal(await a.state.d.stop(), 0);
  assert.deepEqual(rulesOf(tagA), [], "A's rules are gone");
  assert.deepEqual(rulesOf(tagB), rulesB, "every rule of B's is still there");
  const lines = berthLines();
  for (const jump of ['-A FORWARD -j BERTH-FORWARD', '-A POSTROUTING -j BERTH-POSTROUTING', '-A PREROUTING -m addrtype --dst-type LOCAL -j BERTH']) {
    assert.ok(lines.includes(jump), `the jump ${jump} is still there`);
  }
  assert.equal(await fetchWithin(b.port), 'served on rn-db\n', "B's published port still answers");
  // B still works as a whole: a new container's port and its peers' traffic.
  const port2 = await freePort();
  await docker(b.state.d.socket, ['run', '-d', '--name', 'web2', '-p', `127.0.0.1:${port2}:8080`, 'busybox', 'busybox', 'httpd', '-f', '-p', '8080', '-h', '/www'], { timeoutMs: 60_000 });
  assert.equal(await fetchWithin(port2), 'served on rn-db\n');
  await docker(b.state.d.socket, ['rm', '-f', 'web2']);

  assert.equal(await b.state.d.stop(), 0);
  assert.deepEqual(rulesOf(tagB), [], "B's rules are gone");
  // With no other daemon's rule on the host (a test running beside this one), nothing of Berth's is left.
  if (othersRules([tagA, tagB]).length === 0) assert.deepEqual(berthLines(), [], 'no BERTH chain or jump is left');
  else t.diagnostic('another daemon has rules on this host: the chains stay, rightly');
});

test('a restart (kill -9 or a graceful stop with live-restore) puts back the same rules, bridge-level ones included, none twice', async (t) => {
  const dir = makeTempDir('berth-netdmn-d-');
  const a = await daemonWithWeb(t, BRIDGES.a, dir, ['--live-restore']);
  const run = (args: string[]) => docker(a.state.d.socket, args, { timeoutMs: 60_000 });
  await run(['network', 'create', '--subnet', USER_SUBNET, 'rn-user']);
  onCleanup(t, async () => {
    if (a.state.d.proc.exitCode === null && a.state.d.proc.signalCode === null) {
      await removeAllContainers(a.state.d.socket);
      await docker(a.state.d.socket, ['network', 'rm', 'rn-user'], { expectCode: 'any' });
    }
  });
  await run(['run', '-d', '--name', 'peer', '--network', 'rn-user', 'busybox', 'sleep', '600']);
  const tag = tagOf(a.state.d);
  const rules = rulesOf(tag);
  const userBridge = rules.find((l) => l.includes('10.123.233.0/24') && l.includes('MASQUERADE'))?.match(/! -o (\S+)/)?.[1];
  assert.ok(userBridge, `the user network's MASQUERADE rule:\n${rules.join('\n')}`);
  // Container-to-internet style forwarding of both networks: out of the bridge, and replies back in.
  for (const br of ['rn-da', userBridge]) {
    assert.ok(rules.some((l) => l.startsWith(`-A BERTH-FORWARD -i ${br} ! -o ${br} `) && l.endsWith('-j ACCEPT')), `forward out of ${br}`);
    assert.ok(rules.some((l) => l.startsWith(`-A BERTH-FORWARD -o ${br} -m conntrack --ctstate RELATED,ESTABLISHED `)), `replies into ${br}`);
  }
  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    await a.state.d.stop(signal);
    a.state.d = await startDaemon({ dir, args: ['--bridge', BRIDGES.a.name, '--live-restore'] });
    // Any request but /_ping waits for the start to finish (networks restored).
    await run(['network', 'ls', '-q']);
    assert.deepEqual(rulesOf(tag), rules, `after ${signal} and a restart: the same rules, none twice`);
    assert.equal(await fetchWithin(a.port), 'served on rn-da\n');
  }
});
