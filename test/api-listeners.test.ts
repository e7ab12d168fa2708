// The API's listeners and wire behaviour: TCP, the non-loopback refusal, TLS with client
// certificates (also through the real docker CLI), CORS, metrics, and dockerd's error shapes.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import {
  apiRequest, makeTempDir, onCleanup, runBerthd, startDaemon, type ApiResponse, type RunningDaemon, type StartOptions,
} from './helpers/daemon.js';
import { freePort } from './helpers/ports.js';
import { makeTlsCerts } from './helpers/tls-certs.js';

/** A daemon in a fresh temp dir, removed when the test ends. */
async function fresh(t: TestContext, opts: StartOptions = {}): Promise<RunningDaemon> {
  const dir = makeTempDir();
  onCleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'daemon.json'), '{}');
  const d = await startDaemon({ ...opts, dir });
  onCleanup(t, () => d.cleanup());
  return d;
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */

interface TcpOptions {
  method?: string;
  headers?: Record<string, string>;
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
}

/** One request to 127.0.0.1:port (plain or TLS), without keep-alive. */
function tcpRequest(port: number, path: string, opts: TcpOptions = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const common = { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: false as const, timeout: 10_000 };
    const onResponse = (res: import('node:http').IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    };
    const req = opts.tls
      ? httpsRequest({ ...common, ...opts.tls }, onResponse)
      : httpRequest(common, onResponse);
    req.on('timeout', () => req.destroy(new Error(`${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** The headers dockerd puts on every response. */
function assertCommonHeaders(r: { headers: IncomingHttpHeaders | ApiResponse['headers'] }, what: string): void {
  assert.equal(r.headers['api-version'], '1.44', `${what}: Api-Version`);
  assert.equal(r.headers['ostype'], 'linux', `${what}: Ostype`);
  assert.equal(r.headers['docker-experimental'], 'false', `${what}: Docker-Experimental`);
  assert.match(String(r.headers['server']), /^Berth\/\S+ \(linux\)$/, `${what}: Server`);
}

test('-H tcp://127.0.0.1:PORT serves /_ping and /version next to the unix socket', async (t) => {
  const port = await freePort();
  const d = await fresh(t, { args: ['-H', `tcp://127.0.0.1:${port}`] });
  const ping = await tcpRequest(port, '/_ping');
  assert.equal(ping.status, 200);
  assert.equal(ping.body, 'OK');
  const version = await tcpRequest(port, '/version');
  assert.equal(version.status, 200);
  const v = JSON.parse(version.body);
  assert.equal(v.ApiVersion, '1.44');
  assert.equal(v.Os, 'linux');
  assertCommonHeaders(version, 'tcp /version');
  const unix = await apiRequest(d.socket, 'GET', '/_ping');
  assert.equal(unix.status, 200, 'the unix socket works too');
  assert.equal(unix.body, 'OK');
});

test('plain TCP on a non-loopback address is refused unless --insecure-tcp', async (t) => {
  const port = await freePort();
  const dir = makeTempDir();
  onCleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  const address = `tcp://0.0.0.0:${port}`;
  const r = await runBerthd([
    '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '-p', join(dir, 'berth.pid'),
    '-H', `unix://${join(dir, 'berth.sock')}`, '-H', address,
  ], {}, { expectCode: 'failure' });
  assert.ok(r.stderr.includes(address), `names the address: ${r.stderr}`);
  assert.ok(r.stderr.includes('--tlsverify'), `names --tlsverify: ${r.stderr}`);
  await assert.rejects(tcpRequest(port, '/_ping'), 'nothing listens on the refused port');

  // The operator insists: it starts (traffic only through loopback).
  const d = await fresh(t, { args: ['-H', address, '--insecure-tcp'] });
  const ping = await tcpRequest(port, '/_ping');
  assert.equal(ping.status, 200);
  assert.equal(ping.body, 'OK');
  assert.match(d.logs(), /without TLS/);
});

test('TLS with client verification: a client certificate is required', async (t) => {
  const certs = makeTlsCerts();
  onCleanup(t, () => rmSync(certs.dir, { recursive: true, force: true }));
  const port = await freePort();
  await fresh(t, {
    args: [
      '--tlsverify', '--tlscacert', certs.ca, '--tlscert', certs.serverCert, '--tlskey', certs.serverKey,
      '-H', `tcp://127.0.0.1:${port}`,
    ],
  });
  const ca = readFileSync(certs.ca);
  const ok = await tcpRequest(port, '/_ping', { tls: { ca, cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) } });
  assert.equal(ok.status, 200);
  assert.equal(ok.body, 'OK');

  await assert.rejects(tcpRequest(port, '/_ping', { tls: { ca } }), 'no client certificate: no answer');
  // A certificate from another CA is no better than none.
  const stranger = makeTlsCerts();
  onCleanup(t, () => rmSync(stranger.dir, { recursive: true, force: true }));
  await assert.rejects(tcpRequest(port, '/_ping', {
    tls: { ca, cert: readFileSync(stranger.clientCert), key: readFileSync(stranger.clientKey) },
  }), 'client certificate from an unknown CA: no answer');
  const plain = await tcpRequest(port, '/_ping').catch(() => undefined);
  assert.ok(plain === undefined || plain.status !== 200, 'plain HTTP on the TLS port gets no API answer');

  // The real docker CLI speaks to it.
  const dockerConfig = makeTempDir('berth-docker-config-');
  onCleanup(t, () => rmSync(dockerConfig, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: dockerConfig };
  for (const k of ['DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_API_VERSION']) delete env[k];
  const cli = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const p = spawn('docker', [
      '--tlsverify', '--tlscacert', certs.ca, '--tlscert', certs.clientCert, '--tlskey', certs.clientKey,
      '-H', `tcp://127.0.0.1:${port}`, 'version',
    ], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('error', reject);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
  assert.equal(cli.code, 0, `docker version: ${cli.stdout}\n${cli.stderr}`);
  assert.match(cli.stdout, /^Server:/m, cli.stdout);
  assert.match(cli.stdout, /API version:\s+1\.44/, cli.stdout);
});

test('--api-cors-header sets CORS headers and answers OPTIONS', async (t) => {
  const d = await fresh(t, { args: ['--api-cors-header', '*'] });
  const ping = await apiRequest(d.socket, 'GET', '/_ping');
  assert.equal(ping.status, 200);
  assert.equal(ping.headers['access-control-allow-origin'], '*');
  assert.match(String(ping.headers['access-control-allow-methods']), /OPTIONS/);
  const pre = await apiRequest(d.socket, 'OPTIONS', '/v1.41/containers/json', undefined, {
    Origin: 'http://example.test', 'Access-Control-Request-Method': 'GET',
  });
  assert.equal(pre.status, 200);
  assert.equal(pre.headers['access-control-allow-origin'], '*');
});

test('--metrics-addr serves job counts and durations in Prometheus text', async (t) => {
  const port = await freePort();
  const d = await fresh(t, { args: ['--metrics-addr', `127.0.0.1:${port}`] });
  // /info first: it waits for the daemon to be ready, i.e. for the metrics plugin to count
  // (/_ping answers early, while later plugins, metrics among them, may still be starting).
  for (let i = 0; i < 2; i++) assert.equal((await apiRequest(d.socket, 'GET', '/info')).status, 200);
  for (let i = 0; i < 3; i++) assert.equal((await apiRequest(d.socket, 'GET', '/_ping')).status, 200);
  const m = await tcpRequest(port, '/metrics');
  assert.equal(m.status, 200);
  assert.match(String(m.headers['content-type']), /^text\/plain/);
  const ping = /^berth_jobs_total\{job="ping",status="ok"\} (\d+)$/m.exec(m.body);
  assert.ok(ping, m.body);
  assert.ok(Number(ping[1]) >= 3, `ping count ${ping[1]} >= 3`);
  const info = /^berth_job_duration_seconds_count\{job="info"\} (\d+)$/m.exec(m.body);
  assert.ok(info, m.body);
  assert.ok(Number(info[1]) >= 2, `info count ${info[1]} >= 2`);
  // The counter moves with the calls.
  for (let i = 0; i < 2; i++) await apiRequest(d.socket, 'GET', '/_ping');
  const later = /^berth_jobs_total\{job="ping",status="ok"\} (\d+)$/m.exec((await tcpRequest(port, '/metrics')).body);
  assert.ok(later && Number(later[1]) >= Number(ping[1]) + 2, 'ping counter grows');
  // Event-loop lag: quantiles ordered, a max below a second on an idle daemon, samples accumulating.
  const lag = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}".]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
  const m1 = (await tcpRequest(port, '/metrics')).body;
  const [p50, p99, max, count] = ['berth_event_loop_lag_seconds{quantile="0.5"}', 'berth_event_loop_lag_seconds{quantile="0.99"}', 'berth_event_loop_lag_max_seconds', 'berth_event_loop_lag_seconds_count'].map((s) => lag(m1, s));
  assert.ok(p50 >= 0 && p50 <= p99 && p99 <= max && max < 5, `lag p50 ${p50} p99 ${p99} max ${max}`);
  assert.match(m1, /^berth_event_loop_lag_window_seconds\{stat="max"\} \d+\.\d+$/m);
  await new Promise((r) => setTimeout(r, 300));
  const later2 = lag((await tcpRequest(port, '/metrics')).body, 'berth_event_loop_lag_seconds_count');
  assert.ok(later2 > count, `lag samples accumulate: ${count} then ${later2}`);
});

test('errors and headers have dockerd\'s shapes', async (t) => {
  const d = await fresh(t);

  const tooNew = await apiRequest(d.socket, 'GET', '/v1.99/version');
  assert.equal(tooNew.status, 400);
  assert.match(String(tooNew.headers['content-type']), /^application\/json/);
  assert.deepEqual(tooNew.json(), { message: 'client version 1.99 is too new. Maximum supported API version is 1.44' });
  assertCommonHeaders(tooNew, 'too new');

  const tooOld = await apiRequest(d.socket, 'GET', '/v1.11/version');
  assert.equal(tooOld.status, 400);
  assert.match(String(tooOld.headers['content-type']), /^text\/plain/);
  assert.match(tooOld.body, /client version 1\.11 is too old/);
  assertCommonHeaders(tooOld, 'too old');

  const ok = await apiRequest(d.socket, 'GET', '/v1.41/version');
  assert.equal(ok.status, 200);
  assertCommonHeaders(ok, '/v1.41/version');
  assert.equal(ok.headers['access-control-allow-origin'], undefined, 'no CORS headers unless asked for');

  const missing = await apiRequest(d.socket, 'GET', '/v1.41/no/such/route');
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.json(), { message: 'page not found' });
  assertCommonHeaders(missing, '404');

  const head = await apiRequest(d.socket, 'HEAD', '/_ping');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  assert.match(String(head.headers['cache-control']), /no-cache/);
  assert.equal(head.headers['pragma'], 'no-cache');
  assertCommonHeaders(head, 'HEAD /_ping');

  const filters = encodeURIComponent(JSON.stringify({ bogus: ['x'] }));
  const ev = await apiRequest(d.socket, 'GET', `/events?filters=${filters}`);
  assert.equal(ev.status, 400);
  assert.match(ev.json().message, /Invalid filter 'bogus'/);
  assertCommonHeaders(ev, 'events 400');
});
