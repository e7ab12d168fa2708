// The built-in authz-policy plugin with the real docker CLI: privileged containers and binds of /
// are refused with dockerd's 403 message, other runs work, SIGHUP swaps the policy without a
// restart, and an invalid new policy leaves the old one in force.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { docker, type DockerOptions, makeTempDir, type RunningDaemon, startDaemon } from './helpers/daemon.js';
import { importBusybox, removeAllContainers } from './helpers/busybox.js';
import { waitFor } from './helpers/poll.js';

const STRICT = {
  default: 'allow',
  rules: [
    { name: 'no-privileged', action: 'deny', message: 'privileged containers are not allowed', methods: ['POST'], paths: ['/containers/create', '/containers/*/exec'], body: { privileged: true } },
    { name: 'no-root-bind', action: 'deny', message: 'binding / or the daemon socket is not allowed', body: { binds: ['/', '$DAEMON_SOCKET'] } },
    { name: 'no-sys-admin', action: 'deny', message: 'CAP_SYS_ADMIN is not allowed', body: { capAdd: ['SYS_ADMIN'] } },
    { name: 'no-host-network', action: 'deny', message: 'the host network is not allowed', body: { networkMode: ['host'] } },
    { name: 'trusted-images', action: 'deny', message: 'only trusted images may run', paths: ['/containers/create'], body: { imageNotIn: ['busybox', 'trusted/*'] } },
  ],
};
const PERMISSIVE = { default: 'allow', rules: [] };

let d: RunningDaemon;
let work: string;
let policyFile: string;
const writePolicy = (doc: unknown) => writeFileSync(policyFile, typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2));

/** Sends SIGHUP and waits (bounded) for the policy plugin to log the outcome. */
async function reload(expect: RegExp): Promise<void> {
  const before = d.logs().length;
  d.proc.kill('SIGHUP');
  await waitFor(`${expect} in the daemon's log after SIGHUP`, () => expect.test(d.logs().slice(before)), {
    maxTries: 100, intervalMs: 100, detail: () => d.logs().slice(before),
  });
}

before(async () => {
  work = makeTempDir('berth-authz-policy-');
  policyFile = join(work, 'policy.json');
  writePolicy(STRICT);
  d = await startDaemon({ args: ['--authorization-plugin', 'authz-policy', '--authz-policy-file', policyFile] });
  await importBusybox(d.socket, work);
});
after(async () => {
  await removeAllContainers(d.socket);
  await d?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

const run = (args: string[], opts: DockerOptions = {}) => docker(d.socket, ['run', ...args], { timeoutMs: 60_000, ...opts });
const containerCount = async () => (await docker(d.socket, ['ps', '-aq'])).stdout.trim().split('\n').filter(Boolean).length;

test('docker run --privileged is refused with the 403 message naming the plugin and rule', async () => {
  const r = await run(['--privileged', 'busybox', 'true'], { expectCode: 'failure' });
  assert.match(r.stderr, /Error response from daemon: authorization denied by plugin authz-policy: privileged containers are not allowed \(rule no-privileged\)/);
  assert.equal(await containerCount(), 0, 'no container was created');
  assert.match(d.logs(), /"plugin":"authz-policy".*authorization denied by plugin authz-policy/, 'the denial is logged');
});

test('binds of /, of a path that resolves to /, and of the daemon socket are refused', async () => {
  const link = join(work, 'to-root');
  const { symlinkSync } = await import('node:fs');
  symlinkSync('/', link);
  for (const bind of ['/:/host', '//:/host', `${link}:/host`, `${d.socket}:/var/run/docker.sock`]) {
    const r = await run(['-v', bind, 'busybox', 'true'], { expectCode: 'failure' });
    assert.match(r.stderr, /authorization denied by plugin authz-policy: binding \/ or the daemon socket is not allowed \(rule no-root-bind\)/, bind);
  }
  // A local volume that binds / (type=none o=bind), made by volume create or by --mount, is a bind of / too.
  const denied = /authorization denied by plugin authz-policy: binding \/ or the daemon socket is not allowed \(rule no-root-bind\)/;
  const vol = await docker(d.socket, ['volume', 'create', '--opt', 'type=none', '--opt', 'o=bind', '--opt', 'device=/', 'rootvol'], { expectCode: 'failure' });
  assert.match(vol.stderr, denied);
  const viaMount = await run(['--mount', 'type=volume,source=rootvol2,target=/host,volume-opt=type=none,volume-opt=o=rbind,volume-opt=device=/', 'busybox', 'true'], { expectCode: 'failure' });
  assert.match(viaMount.stderr, denied);
  assert.equal((await docker(d.socket, ['volume', 'ls', '-q'])).stdout.trim(), '');
  assert.equal(await containerCount(), 0);
});

test('--cap-add SYS_ADMIN, --network host and images outside the allow-list are refused', async () => {
  await docker(d.socket, ['tag', 'busybox', 'untrusted/box:1']);
  await docker(d.socket, ['tag', 'busybox', 'trusted/box:1']);
  for (const [args, rule] of [
    [['--cap-add', 'SYS_ADMIN', 'busybox', 'true'], 'no-sys-admin'],
    [['--cap-add', 'ALL', 'busybox', 'true'], 'no-sys-admin'],
    [['--network', 'host', 'busybox', 'true'], 'no-host-network'],
    [['untrusted/box:1', 'true'], 'trusted-images'],
  ] as const) {
    const r = await run([...args], { expectCode: 'failure' });
    assert.match(r.stderr, new RegExp(`authorization denied by plugin authz-policy: .*\\(rule ${rule}\\)`), args.join(' '));
  }
  assert.equal(await containerCount(), 0);
  await run(['--rm', '--cap-add', 'NET_ADMIN', 'trusted/box:1', 'true']);
});

test('docker exec --privileged is refused too; a plain exec works', async () => {
  const id = (await run(['-d', 'busybox', 'sleep', '30'])).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const priv = await docker(d.socket, ['exec', '--privileged', id, 'true'], { expectCode: 'failure' });
  assert.match(priv.stderr, /authorization denied by plugin authz-policy: privileged containers are not allowed \(rule no-privileged\)/);
  const plain = await docker(d.socket, ['exec', id, 'echo', 'inside']);
  assert.equal(plain.stdout, 'inside\n', plain.stderr);
  await docker(d.socket, ['rm', '-f', id]);
});

test('docker run --rm busybox true works under the policy', async () => {
  await run(['--rm', 'busybox', 'true']);
  await run(['--rm', '-v', `${work}:/w`, 'busybox', 'ls', '/w/policy.json']);
});

test('SIGHUP loads a permissive policy without a restart; an invalid one keeps the old policy', async () => {
  const pid = d.proc.pid;
  writePolicy(PERMISSIVE);
  await reload(/authorization policy reloaded/);
  await run(['--rm', '--privileged', 'busybox', 'true']);
  await run(['--rm', '-v', '/:/host', 'busybox', 'ls', '/host/etc/hostname']);

  writePolicy(STRICT);
  await reload(/authorization policy reloaded/);
  assert.match((await run(['--rm', '--privileged', 'busybox', 'true'], { expectCode: 'failure' })).stderr, /authorization denied by plugin authz-policy/);

  // A rule with a wrong type: the error names the rule and the field; the strict policy stays.
  writePolicy({ default: 'allow', rules: [{ name: 'broken', action: 'deny', body: { privileged: 'yes' } }] });
  await reload(/authorization policy not reloaded/);
  assert.match(d.logs(), /rule \\"broken\\" \(rules\[0\]\): body\.privileged: must be boolean/);
  assert.match((await run(['--rm', '--privileged', 'busybox', 'true'], { expectCode: 'failure' })).stderr, /authorization denied by plugin authz-policy/);
  writePolicy('{ not json');
  await reload(/authorization policy not reloaded/);
  assert.match((await run(['--rm', '-v', '/:/host', 'busybox', 'true'], { expectCode: 'failure' })).stderr, /rule no-root-bind/);
  assert.equal(d.proc.pid, pid, 'never restarted');
  assert.equal(d.proc.exitCode, null);
});

test('a daemon with an invalid policy refuses to start, naming the rule', async () => {
  const dir = makeTempDir('berth-authz-bad-');
  try {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ default: 'allow', rules: [{ name: 'ok', action: 'deny' }, { name: 'typo', action: 'refuse' }] }));
    await assert.rejects(
      startDaemon({ dir, args: ['--authorization-plugin', 'authz-policy', '--authz-policy-file', bad] }),
      /rule \\?"typo\\?" \(rules\[1\]\): action: must be one of "allow", "deny"/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
