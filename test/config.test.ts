// Configuration: dockerd's flag names and daemon.json keys, and its refusals.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type ExpectOptions, makeTempDir, runBerthd } from './helpers/daemon.js';

async function validate(fileContent: string | undefined, args: string[] = [], opts: ExpectOptions = {}) {
  const dir = makeTempDir();
  const file = join(dir, 'daemon.json');
  if (fileContent !== undefined) writeFileSync(file, fileContent);
  try {
    return { file, ...(await runBerthd(['--config-file', file, ...args, '--validate'], {}, opts)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('--validate accepts a valid daemon.json with dockerd key names and prints configuration OK', async () => {
  const r = await validate(JSON.stringify({
    'data-root': '/tmp/x', 'exec-root': '/tmp/y', debug: false, 'log-level': 'warn', hosts: ['unix:///tmp/b.sock'],
    pidfile: '/tmp/b.pid', tls: false, 'shutdown-timeout': 5, 'metrics-addr': '127.0.0.1:9323',
  }));
  assert.equal(r.stdout, 'configuration OK\n');
});

test('an unknown key is an error naming the file and the key', async () => {
  const r = await validate('{"debug": true, "storage-drivr": "overlay"}', [], { expectCode: 1 });
  assert.match(r.stderr, new RegExp(`file ${r.file}`));
  assert.match(r.stderr, /don't match any configuration option: storage-drivr/);
});

test('a wrong type is an error naming the file, the key and the expected type', async () => {
  const r = await validate('{"debug": "yes"}', [], { expectCode: 1 });
  assert.match(r.stderr, new RegExp(r.file));
  assert.match(r.stderr, /debug: must be boolean/);
});

test('a bad value is an error naming the key and the allowed values', async () => {
  const r = await validate('{"log-level": "loud"}', [], { expectCode: 1 });
  assert.match(r.stderr, /log-level: must be one of "debug", "info", "warn", "error", "fatal"/);
  const bad = await validate('{"hosts": ["http://0.0.0.0:1"]}', [], { expectCode: 1 });
  assert.match(bad.stderr, /plugin api-server: config hosts\.0: must match pattern/);
});

test('a directive given both as a flag and in the file is an error, as dockerd does', async () => {
  const r = await validate('{"debug": false, "hosts": ["unix:///tmp/a.sock"]}', ['-D', '-H', 'unix:///tmp/b.sock'], { expectCode: 1 });
  assert.match(r.stderr, /specified both as a flag and in the configuration file/);
  assert.match(r.stderr, /debug: \(from flag: true, from file: false\)/);
  assert.match(r.stderr, /hosts: \(from flag: \["unix:\/\/\/tmp\/b\.sock"\], from file: \["unix:\/\/\/tmp\/a\.sock"\]\)/);
});

test('malformed JSON and a missing explicit file are errors naming the file', async () => {
  const r = await validate('{"debug": tru', [], { expectCode: 1 });
  assert.match(r.stderr, /invalid JSON/);
  assert.match(r.stderr, new RegExp(r.file));
  const missing = await validate(undefined, [], { expectCode: 1 });
  assert.match(missing.stderr, /no such file or directory/);
});

test('flags: unknown flag, missing argument and bad number are errors', async () => {
  assert.match((await validate('{}', ['--bogus'], { expectCode: 1 })).stderr, /unknown flag: --bogus/);
  assert.match((await runBerthd(['--validate', '--data-root'], {}, { expectCode: 1 })).stderr, /flag needs an argument: --data-root/);
  assert.match((await validate('{}', ['--shutdown-timeout', 'soon'], { expectCode: 1 })).stderr, /invalid integer value "soon" for flag --shutdown-timeout/);
  await validate('{}', ['--tls=false', '-H', 'unix:///tmp/x.sock', '-H', 'tcp://127.0.0.1:2376']);
});

test('--version prints the version and exits 0', async () => {
  const r = await runBerthd(['--version']);
  assert.match(r.stdout, /^Berth version \d+\.\d+\.\d+, build \S+\n$/);
});
