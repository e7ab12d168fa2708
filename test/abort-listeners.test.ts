// Issue 13 item 12: ordinary use must not pile abort listeners on a long-lived AbortSignal (Node
// warns "MaxListenersExceededWarning: Possible EventTarget memory leak detected" on stderr).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiRequest, docker, type RunningDaemon } from './helpers/daemon.js';
import { withBusyboxDaemon } from './helpers/busybox.js';

let d: RunningDaemon;
withBusyboxDaemon('berth-listeners-', (daemon) => { d = daemon; });

const LEAK = /MaxListenersExceededWarning|EventTarget memory leak/;

test('30 docker run --rm, rm -f of running containers and a long log follow add no lasting abort listeners', async () => {
  for (let i = 0; i < 30; i++) {
    await docker(d.socket, ['run', '--rm', 'busybox', 'true'], { timeoutMs: 60_000 });
  }
  // rm -f waits for the exit on the job's signal; a follow polls its log on the client's signal.
  for (let i = 0; i < 12; i++) {
    const id = (await docker(d.socket, ['run', '-d', 'busybox', 'sleep', '100'])).stdout.trim();
    await docker(d.socket, ['rm', '-f', id]);
  }
  const id = (await docker(d.socket, ['run', '-d', 'busybox', 'sh', '-c', 'for i in $(seq 40); do echo $i; sleep 0.1; done'])).stdout.trim();
  const logs = await docker(d.socket, ['logs', '-f', id], { timeoutMs: 60_000 });
  assert.match(logs.stdout, /^1\n[\s\S]*\n40\n$/);
  const ping = await apiRequest(d.socket, 'GET', '/_ping');
  assert.equal(ping.status, 200);
  assert.doesNotMatch(d.logs(), LEAK);
});
