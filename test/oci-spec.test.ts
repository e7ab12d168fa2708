// buildOciSpec's secure defaults and mappings, and resolveUser against an image's own files.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ContainerSpec } from '../plugins/exec/index.js';
import { buildOciSpec, resolveUser, type HostFacts } from '../plugins/exec-runc/index.js';
import { DEFAULT_CAPABILITIES } from '../plugins/exec-runc/capabilities.js';
import { MASKED_PATHS, READONLY_PATHS } from '../plugins/exec-runc/oci-spec.js';

const base: ContainerSpec = {
  id: 'c0ffee0123456789',
  hostname: 'web',
  root: { path: '/var/lib/berth/rootfs', readonly: false },
  mounts: [],
  cgroupsPath: '/berth/c0ffee0123456789',
  process: { args: ['sh'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 }, tty: false },
};

type Spec = {
  process: { capabilities: Record<string, string[]>; rlimits: { type: string; soft: number }[]; noNewPrivileges?: boolean; user: unknown; args: string[] };
  root: { readonly: boolean };
  hostname: string;
  mounts: { destination: string; type: string; source: string; options: string[] }[];
  linux: {
    maskedPaths?: string[];
    readonlyPaths?: string[];
    namespaces: { type: string; path?: string }[];
    seccomp?: { defaultAction: string; architectures: string[]; syscalls: { names: string[]; action: string; errnoRet?: number }[] };
    resources: Record<string, unknown> & { devices: { allow: boolean; access: string; type?: string; major?: number; minor?: number }[] };
    devices?: unknown[];
    cgroupsPath: string;
  };
};
/** The spec for base with `over`, on an amd64 6.1 host unless `host` says otherwise. */
const spec = ({ host, ...over }: Partial<ContainerSpec> & { host?: HostFacts } = {}) =>
  buildOciSpec({ ...base, ...over }, { arch: 'amd64', kernel: '6.1.0', ...host }) as unknown as Spec;
const allowed = (s: Spec, name: string) => s.linux.seccomp!.syscalls.some((r) => r.action === 'SCMP_ACT_ALLOW' && r.names.includes(name) && !('args' in r));

describe('buildOciSpec', () => {
  it('gives exactly dockerd\'s default capabilities, none inheritable', () => {
    const caps = spec().process.capabilities;
    assert.deepEqual([...caps.bounding].sort(), [...DEFAULT_CAPABILITIES].sort());
    assert.equal(caps.bounding.length, 14);
    assert.deepEqual(caps.effective, caps.bounding);
    assert.deepEqual(caps.permitted, caps.bounding);
    assert.equal(caps.inheritable, undefined);
    assert.equal(caps.ambient, undefined);
  });

  it('applies cap-add and cap-drop, with or without CAP_, in any case, and ALL', () => {
    const c1 = spec({ capAdd: ['net_admin', 'CAP_SYS_PTRACE'], capDrop: ['Chown', 'cap_mknod'] }).process.capabilities.bounding;
    assert.ok(c1.includes('CAP_NET_ADMIN') && c1.includes('CAP_SYS_PTRACE'));
    assert.ok(!c1.includes('CAP_CHOWN') && !c1.includes('CAP_MKNOD'));
    assert.deepEqual(spec({ capDrop: ['ALL'], capAdd: ['kill'] }).process.capabilities.bounding, ['CAP_KILL']);
    const all = spec({ capAdd: ['all'], capDrop: ['SYS_ADMIN'] }).process.capabilities.bounding;
    assert.ok(all.includes('CAP_SYS_MODULE') && !all.includes('CAP_SYS_ADMIN'));
    assert.throws(() => spec({ capAdd: ['BOGUS'] }), /unknown capability: "CAP_BOGUS"/);
  });

  it('masks and write-protects /proc and /sys paths, and uses the default seccomp profile', () => {
    const s = spec();
    assert.deepEqual(s.linux.maskedPaths, MASKED_PATHS);
    for (const p of ['/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap']) {
      assert.ok(s.linux.maskedPaths!.includes(p), p);
    }
    assert.deepEqual(s.linux.readonlyPaths, READONLY_PATHS);
    const sc = s.linux.seccomp!;
    assert.equal(sc.defaultAction, 'SCMP_ACT_ERRNO');
    assert.deepEqual(sc.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    assert.ok(allowed(s, 'read') && allowed(s, 'arch_prctl') && allowed(s, 'ptrace'));
    // CAP_SYS_ADMIN-only calls stay out; clone3 answers ENOSYS so libc falls back to clone.
    assert.ok(!allowed(s, 'mount') && !allowed(s, 'unshare') && !allowed(s, 'bpf'));
    assert.equal(sc.syscalls.find((r) => r.names.includes('clone3'))?.errnoRet, 38);
    assert.ok(!allowed(spec({ host: { arch: 'amd64', kernel: '4.4.0' } }), 'ptrace'), 'minKernel 4.8');
    assert.ok(!allowed(spec({ host: { arch: 'arm64', kernel: '6.1' } }), 'arch_prctl'));
    // Granting a capability unlocks its syscalls.
    assert.ok(allowed(spec({ capAdd: ['SYS_ADMIN'] }), 'mount'));
    assert.ok(allowed(spec({ capAdd: ['SYS_TIME'] }), 'settimeofday'));
  });

  it('drops seccomp with seccomp=unconfined and takes a custom profile', () => {
    assert.equal(spec({ securityOpt: ['seccomp=unconfined'] }).linux.seccomp, undefined);
    assert.ok(spec({ securityOpt: ['seccomp=unconfined'] }).linux.maskedPaths);
    const custom = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chmod'], action: 'SCMP_ACT_ERRNO' }] });
    const sc = spec({ securityOpt: [`seccomp=${custom}`] }).linux.seccomp!;
    assert.equal(sc.defaultAction, 'SCMP_ACT_ALLOW');
    assert.deepEqual(sc.syscalls, [{ names: ['chmod'], action: 'SCMP_ACT_ERRNO' }]);
    assert.throws(() => spec({ securityOpt: ['seccomp={not json'] }), /Decoding seccomp profile failed/);
  });

  it('sets no-new-privileges only when asked', () => {
    assert.equal(spec().process.noNewPrivileges, undefined);
    assert.equal(spec({ securityOpt: ['no-new-privileges'] }).process.noNewPrivileges, true);
    assert.equal(spec({ securityOpt: ['no-new-privileges:true'] }).process.noNewPrivileges, true);
    assert.equal(spec({ securityOpt: ['no-new-privileges=false'] }).process.noNewPrivileges, undefined);
    assert.throws(() => spec({ securityOpt: ['bogus=1'] }), /invalid --security-opt/);
  });

  it('makes a privileged container: all caps, no seccomp, no masks, host devices, rw sysfs', () => {
    const dev = { path: '/dev/sda', type: 'b' as const, major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 };
    const s = spec({ privileged: true, host: { arch: 'amd64', kernel: '6.1', devices: [dev] } });
    assert.ok(s.process.capabilities.bounding.includes('CAP_SYS_ADMIN'));
    assert.ok(s.process.capabilities.bounding.length >= 38);
    assert.equal(s.linux.seccomp, undefined);
    assert.equal(s.linux.maskedPaths, undefined);
    assert.equal(s.linux.readonlyPaths, undefined);
    assert.deepEqual(s.linux.devices, [dev]);
    assert.deepEqual(s.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
    assert.ok(!s.mounts.find((m) => m.destination === '/sys')!.options.includes('ro'));
    // "All" is bounded by what the host can give.
    const limited = spec({ privileged: true, host: { capabilities: ['CAP_CHOWN', 'CAP_KILL'] } }).process.capabilities.bounding;
    assert.deepEqual(limited, ['CAP_CHOWN', 'CAP_KILL']);
  });

  it('has dockerd\'s default mounts, devices and rlimits', () => {
    const s = spec();
    const byDest = new Map(s.mounts.map((m) => [m.destination, m]));
    assert.deepEqual([...byDest.keys()], ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm']);
    assert.ok(byDest.get('/dev/pts')!.options.includes('ptmxmode=0666') && byDest.get('/dev/pts')!.options.includes('newinstance'));
    assert.ok(byDest.get('/sys')!.options.includes('ro') && byDest.get('/sys/fs/cgroup')!.options.includes('ro'));
    assert.ok(byDest.get('/dev/shm')!.options.includes(`size=${64 * 1024 * 1024}`));
    assert.ok(spec({ shmSize: 1024 * 1024 }).mounts.find((m) => m.destination === '/dev/shm')!.options.includes('size=1048576'));
    const rules = s.linux.resources.devices;
    assert.deepEqual(rules[0], { allow: false, access: 'rwm' });
    const allowedDevs = rules.filter((r) => r.allow && r.access === 'rwm').map((r) => `${r.major}:${r.minor ?? '*'}`);
    assert.deepEqual(allowedDevs, ['1:3', '1:5', '1:7', '1:8', '1:9', '5:0', '5:1', '5:2', '136:*']);
    assert.equal(s.linux.devices, undefined);
    assert.deepEqual(s.process.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 1048576, hard: 1048576 }]);
    assert.deepEqual(spec({ host: { maxNofile: 20000 } }).process.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 }]);
  });

  it('maps resources as dockerd does', () => {
    const r = spec({ resources: { memory: 32 * 1024 * 1024, nanoCpus: 1.5e9, pidsLimit: 100, cpuShares: 512, cpusetCpus: '0-1', blkioWeight: 300 } }).linux.resources;
    assert.deepEqual(r.memory, { limit: 33554432, swap: 67108864 });
    assert.deepEqual(r.cpu, { period: 100000, quota: 150000, shares: 512, cpus: '0-1' });
    assert.deepEqual(r.pids, { limit: 100 });
    assert.deepEqual(r.blockIO, { weight: 300 });
    assert.deepEqual(spec({ resources: { memory: 1000, memorySwap: -1 } }).linux.resources.memory, { limit: 1000, swap: -1 });
    assert.deepEqual(spec({ resources: { memory: 1000 }, host: { swapLimit: false } }).linux.resources.memory, { limit: 1000 });
    assert.equal(spec({ resources: { pidsLimit: 0 } }).linux.resources.pids, undefined);
    assert.equal(spec({ resources: { pidsLimit: -1 } }).linux.resources.pids, undefined);
  });

  it('places binds, tmpfs and the container files, parents first, and honours read-only root', () => {
    const s = spec({
      root: { path: base.root.path, readonly: true },
      mounts: [
        { destination: '/etc/resolv.conf', type: 'bind', source: '/c/resolv.conf', readonly: true },
        { destination: '/etc/hosts', type: 'bind', source: '/c/hosts', readonly: true },
        { source: '/srv/a/b', destination: '/data/sub', type: 'bind', readonly: false },
        { source: '/srv/a', destination: '/data', type: 'bind', readonly: true },
        { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['size=65536k'] },
        { destination: '/dev/shm', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/mnt/shared', type: 'bind', source: '/srv/s', propagation: 'rshared' },
      ],
    });
    assert.equal(s.root.readonly, true);
    const dests = s.mounts.map((m) => m.destination);
    assert.ok(dests.indexOf('/data') < dests.indexOf('/data/sub'));
    const data = s.mounts.find((m) => m.destination === '/data')!;
    assert.deepEqual(data, { destination: '/data', type: 'bind', source: '/srv/a', options: ['rbind', 'rprivate', 'ro'] });
    assert.deepEqual(s.mounts.find((m) => m.destination === '/run')!.options, ['noexec', 'nosuid', 'nodev', 'size=65536k']);
    assert.equal(s.mounts.filter((m) => m.destination === '/dev/shm').length, 1, 'a user mount replaces the default');
    assert.equal(s.mounts.find((m) => m.destination === '/etc/hosts')!.source, '/c/hosts');
    assert.ok(s.mounts.find((m) => m.destination === '/etc/resolv.conf')!.options.includes('ro'));
    assert.deepEqual(s.mounts.find((m) => m.destination === '/mnt/shared')!.options, ['rbind', 'rshared']);
  });

  it('mounts the init binary and runs the command under it', () => {
    const s = spec({ init: '/usr/bin/tini' });
    assert.deepEqual(s.mounts.find((m) => m.destination === '/sbin/docker-init'), { destination: '/sbin/docker-init', type: 'bind', source: '/usr/bin/tini', options: ['bind', 'ro'] });
    assert.deepEqual(s.process.args, ['/sbin/docker-init', '--', 'sh']);
  });

  it('sets --ulimit values over the NOFILE default', () => {
    const rl = spec({ process: { ...base.process, ulimits: [{ name: 'nofile', soft: 1024, hard: 2048 }, { name: 'nproc', soft: 50, hard: 60 }] } }).process.rlimits;
    assert.deepEqual(rl, [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 }, { type: 'RLIMIT_NPROC', soft: 50, hard: 60 }]);
  });

  it('joins a network namespace, the host\'s, or a fresh one', () => {
    const types = (s: Spec) => s.linux.namespaces.map((n) => n.type);
    assert.deepEqual(types(spec()), ['pid', 'ipc', 'uts', 'mount', 'network']);
    assert.equal(spec().linux.namespaces.find((n) => n.type === 'network')!.path, undefined);
    assert.ok(!types(spec({ network: 'host' })).includes('network'));
    assert.equal(spec({ network: '/run/netns/x' }).linux.namespaces.find((n) => n.type === 'network')!.path, '/run/netns/x');
    assert.equal(spec({ cgroupsPath: '/berth/abc' }).linux.cgroupsPath, '/berth/abc');
    assert.equal(spec().hostname, 'web');
    assert.equal(spec({ hostname: '' }).hostname, 'c0ffee012345');
  });

  it('shares the host\'s pid or ipc namespace when asked (--pid host, --ipc host)', () => {
    const types = (s: Spec) => s.linux.namespaces.map((n) => n.type);
    assert.deepEqual(types(spec({ pidMode: 'host' })), ['ipc', 'uts', 'mount', 'network']);
    const ipc = spec({ ipcMode: 'host' });
    assert.deepEqual(types(ipc), ['pid', 'uts', 'mount', 'network']);
    const shm = ipc.mounts.filter((m) => m.destination === '/dev/shm');
    assert.deepEqual(shm, [{ destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] }], 'the host\'s /dev/shm');
  });
});

describe('resolveUser', () => {
  let dir: string;
  let root: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-user-'));
    root = join(dir, 'rootfs');
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n# comment\nwww:x:33:33::/var/www:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n');
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\nwww:x:33:\napp:x:1000:\nstaff:x:50:app,www\nvideo:x:44:app\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves names, numbers and groups from the image', async () => {
    assert.deepEqual(await resolveUser(root, undefined), { uid: 0, gid: 0, additionalGids: [] });
    assert.deepEqual(await resolveUser(root, 'app'), { uid: 1000, gid: 1000, additionalGids: [50, 44] });
    assert.deepEqual(await resolveUser(root, 'www:video'), { uid: 33, gid: 44, additionalGids: [50] });
    assert.deepEqual(await resolveUser(root, '1000'), { uid: 1000, gid: 1000, additionalGids: [50, 44] });
    assert.deepEqual(await resolveUser(root, '4242'), { uid: 4242, gid: 0, additionalGids: [] });
    assert.deepEqual(await resolveUser(root, '4242:7'), { uid: 4242, gid: 7, additionalGids: [] });
  });

  it('refuses a user or group the image does not have, as dockerd does', async () => {
    await assert.rejects(resolveUser(root, 'nobody'), /unable to find user nobody: no matching entries in passwd file/);
    await assert.rejects(resolveUser(root, 'app:nogroup'), /unable to find group nogroup: no matching entries in group file/);
  });

  it('does not follow an /etc/passwd symlink out of the root file system', async () => {
    const evil = join(dir, 'evil');
    mkdirSync(join(evil, 'etc'), { recursive: true });
    writeFileSync(join(dir, 'outside-passwd'), 'root:x:0:0::/:/bin/sh\nhacker:x:666:666::/:/bin/sh\n');
    // Absolute and relative escapes both stay inside the root.
    symlinkSync(join(dir, 'outside-passwd'), join(evil, 'etc/passwd'));
    await assert.rejects(resolveUser(evil, 'hacker'), /unable to find user hacker/);
    rmSync(join(evil, 'etc/passwd'));
    symlinkSync('../../../outside-passwd', join(evil, 'etc/passwd'));
    await assert.rejects(resolveUser(evil, 'hacker'), /unable to find user hacker/);
    // A symlink that stays inside is followed (scoped to the root).
    mkdirSync(join(evil, 'data'));
    writeFileSync(join(evil, 'data/passwd'), 'hacker:x:666:666::/:/bin/sh\n');
    rmSync(join(evil, 'etc/passwd'));
    symlinkSync('/data/passwd', join(evil, 'etc/passwd'));
    assert.deepEqual(await resolveUser(evil, 'hacker'), { uid: 666, gid: 666, additionalGids: [] });
  });
});
