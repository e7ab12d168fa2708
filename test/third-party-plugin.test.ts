// A third-party plugin loaded with --plugin-dir registers a handler and a route, called over the socket.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MAX_API_VERSION } from '../plugins/api-server/api-version.js';
import { apiRequest, REPO, startDaemon, waitForPing } from './helpers/daemon.js';
import { waitFor } from './helpers/poll.js';

const HELLO = join(REPO, 'test/fixtures/plugins/hello');

test('the plugin route runs the plugin job, with its config, over the unix socket', async (t) => {
  const d = await startDaemon({ args: ['--plugin-dir', HELLO, '--hello-greeting', 'ahoy'] });
  t.after(() => d.cleanup());
  const r = await apiRequest(d.socket, 'GET', '/v1.41/hello/sailor');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json(), { greeting: 'ahoy, sailor' });
  // As dockerd's: the daemon's own API version, whatever the request's path says.
  assert.equal(r.headers['api-version'], MAX_API_VERSION);
});

test('the plugin config comes from daemon.json and reloads on SIGHUP when declared reloadable', async (t) => {
  const d = await startDaemon({ args: ['--plugin-dir', HELLO], waitReady: false });
  t.after(() => d.cleanup());
  // startDaemon points --config-file at <dir>/daemon.json, absent at first: defaults apply.
  await waitForPing(d.socket, d);
  assert.deepEqual((await apiRequest(d.socket, 'GET', '/hello/you')).json(), { greeting: 'hello, you' });
  writeFileSync(join(d.dir, 'daemon.json'), JSON.stringify({ 'hello-greeting': 'good evening' }));
  d.proc.kill('SIGHUP');
  const body = await waitFor('GET /hello/you to answer with another greeting after SIGHUP', async () => {
    const b = (await apiRequest(d.socket, 'GET', '/hello/you')).json() as { greeting: string };
    return b.greeting !== 'hello, you' && b;
  }, { timeoutMs: 5000 });
  assert.deepEqual(body, { greeting: 'good evening, you' });
});

test('the plugin job validates its payload: a bad request gets a 400 naming the field', async (t) => {
  const d = await startDaemon({ args: ['--plugin-dir', HELLO] });
  t.after(() => d.cleanup());
  const bad = await apiRequest(d.socket, 'POST', '/hello', { name: '' });
  assert.equal(bad.status, 400);
  assert.match(bad.json().message, /invalid payload for job hello\.greet: hello\.greet\.name: must NOT have fewer than 1 characters/);
  const missing = await apiRequest(d.socket, 'POST', '/hello', {});
  assert.equal(missing.status, 400);
  assert.match(missing.json().message, /name: is required/);
  const ok = await apiRequest(d.socket, 'POST', '/hello', { name: 'crew' });
  assert.deepEqual(ok.json(), { greeting: 'hello, crew' });
});
