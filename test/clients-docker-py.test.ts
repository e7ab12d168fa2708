// docker-py (Debian's python3-docker, installed by bin/setup) against Berth: the test programs in
// test/clients/ do what its users do, back to back without sleeps; the racy calls are repeated.
// Each program prints its observations as JSON; they are checked here against dockerd's behaviour.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO, type RunningDaemon } from './helpers/daemon.js';
import { withBusyboxDaemon } from './helpers/busybox.js';

// Debian's interpreter and its dist-packages, never another python on PATH with another docker-py.
const PYTHON = '/usr/bin/python3';
const PROGRAM = join(REPO, 'test/clients/docker_py_calls.py');

let d: RunningDaemon;
withBusyboxDaemon('berth-docker-py-', (daemon) => { d = daemon; });

/** Runs one scenario of the program; its JSON observations. */
function py(scenario: string, repeat = 1, timeoutMs = 120_000): Promise<any> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [PROGRAM, d.socket, scenario, String(repeat)], { timeout: timeoutMs, maxBuffer: 1 << 20, env: { ...process.env, PYTHONPATH: '' } }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`docker-py ${scenario} failed: ${err.message}\n${stderr.slice(-3000)}`));
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(new Error(`docker-py ${scenario}: not JSON: ${stdout.slice(-2000)}\n${stderr.slice(-2000)}`));
      }
    });
  });
}

test('docker-py is Debian\'s python3-docker (bin/setup installs it)', async () => {
  const version = await new Promise<string>((resolve, reject) => execFile(PYTHON, ['-c', 'import docker; print(docker.__version__)'], (err, out) => (err ? reject(new Error(`${PYTHON} cannot import docker: run bin/setup (python3-docker): ${err.message}`)) : resolve(out.trim()))));
  assert.match(version, /^\d+\.\d+/);
});

test('containers.run("busybox", ..., remove=True) works 50 of 50 times and leaves nothing behind', async () => {
  const r = await py('run_remove', 50, 300_000);
  assert.deepEqual(r.failures, []);
  assert.deepEqual(r.outputs, ['hi\n']);
  assert.deepEqual(r.left, []);
});

test('a detached run: wait gives the exit code, logs split stdout and stderr', async () => {
  const r = await py('detached');
  assert.deepEqual(r.wait, { StatusCode: 3, Error: null });
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal(r.status, 'exited');
  assert.equal(r.exitCode, 3);
});

test('exec_run: plain, demux, TTY (raw bytes, no frame headers), streamed, and detached (returns at once, the process runs)', async () => {
  const r = await py('execs');
  assert.deepEqual(r.plain, [4, 'out\nerr\n']);
  assert.deepEqual(r.demux, ['out\n', 'err\n']);
  // A terminal: the raw stream, with the terminal's CR LF; a frame header would show as \u0001\u0000….
  assert.deepEqual(r.tty, [0, 'tty\r\n']);
  assert.equal(r.ttyStream, 'one\r\ntwo\r\n');
  assert.ok(r.detachSeconds < 5, `exec_run(detach=True) took ${r.detachSeconds} s`);
  assert.equal(r.detachOutput, '');
  assert.equal(r.detachedAlive, 'alive');
});

test('kill then reload, 20 times back to back: exited, 137, not running', async () => {
  const r = await py('kill_inspect', 20, 180_000);
  assert.equal(r.seen.length, 20);
  for (const s of r.seen) assert.deepEqual(s, ['exited', 137, false]);
});

test('attach_socket: stdin reaches the process, stdout and stderr come back as frames', async () => {
  const r = await py('attach');
  assert.deepEqual(r.frames, [[1, 'got ping\n'], [2, 'bye\n']]);
  assert.deepEqual(r.wait, { StatusCode: 0, Error: null });
});

test('put_archive then get_archive returns the file, its size and mode', async () => {
  const r = await py('archives');
  assert.equal(r.put, true);
  assert.deepEqual(r.stat, { name: 'hello.txt', size: 21, mode: 0o640 });
  assert.equal(r.content, 'hello from docker-py\n');
  assert.equal(r.memberMode, 0o640);
});

test('image save, load and history', async () => {
  const r = await py('images');
  assert.equal(r.saveIsTar, true);
  assert.deepEqual(r.loaded, ['busybox:latest']);
  assert.deepEqual(r.historyIds, [r.imageId], 'one layer, the image itself on top');
});

test('events between since and until: create, start, die, destroy of the container, in order', async () => {
  const r = await py('events');
  assert.deepEqual(r.actions, ['create', 'start', 'die', 'destroy']);
});

test('containers.prune removes the stopped container only; images.prune answers dockerd\'s report', async () => {
  const r = await py('prune');
  assert.deepEqual(r.deleted, [r.gone]);
  assert.ok(!r.deleted.includes(r.kept));
  assert.equal(r.reclaimedIsInt, true);
  assert.deepEqual(r.imagesReport, ['ImagesDeleted', 'SpaceReclaimed']);
});

test('networks: IPAM pools (dual-stack too), MAC addresses from create and connect, a name with a space; all removed', async () => {
  const r = await py('networks');
  assert.equal(r.got, 'py net');
  assert.equal(r.enable_ipv6, true);
  assert.deepEqual(r.ipam6, [{ Subnet: '10.123.249.0/24', Gateway: '10.123.249.1' }, { Subnet: 'fd00:b26::/64', Gateway: 'fd00:b26::1' }]);
  assert.deepEqual(r.macs, ['02:42:0a:7b:f8:42', '02:42:0a:7b:f9:43']);
  assert.equal(r.wide, '02:42:0a:7b:f8:44');
  assert.equal(r.ping6[0], 0, r.ping6[1]);
  assert.match(r.ping6[1], /PING py6peer \(fd00:b26::3\)/);
  assert.deepEqual(r.left, []);
});

test('run options and views as docker-py sends them: group_add, a bare environment entry, ulimits, host hostname, dns, links, GraphDriver.Data, get_archive of /etc/hostname, commit message, df and prune sizes', async () => {
  const r = await py('container_options');
  assert.deepEqual(r.groups, ['0', '4242']);
  assert.deepEqual(r.env, ['A=1']);
  assert.equal(r.nofile, '1024');
  assert.equal(r.hostHostname, hostname());
  assert.match(r.dns, /^nameserver 127\.0\.0\.53$/m);
  // No bridge on this daemon: links record and resolve, but there is no address to give (as dockerd off the bridge).
  assert.deepEqual(r.linkEnv, []);
  assert.equal(r.hostname[0], r.hostname[1]);
  assert.deepEqual(r.graphDriverData, ['LowerDir', 'MergedDir', 'UpperDir', 'WorkDir']);
  assert.equal(r.cpHostname, `${r.hostname[1]}\n`);
  assert.equal(r.comment, 'from docker-py');
  assert.deepEqual(r.dfContainers, [true]);
  assert.ok(r.reclaimed >= 64 * 1024, `reclaimed ${r.reclaimed}`);
});
