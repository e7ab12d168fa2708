// LogConfig as dockerd takes it: go-units sizes, the daemon's defaults merged at create, dockerd's
// messages for bad drivers and options, the rotation each driver asks for; and the timestamps
// docker logs -t prints.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { daemonLogConfig, parseSize, resolveLogConfig, rotationOf, validateLogConfig } from '../plugins/container-store/logs/log-config.js';
import { utcTimestamp } from '../plugins/container-store/logs/logs-job.js';

test('max-size takes go-units sizes: decimal units, optional b or ib, a space, fractions', () => {
  const cases: [string, number][] = [['512', 512], ['10k', 10_000], ['10kb', 10_000], ['1.5M', 1_500_000], ['2 GB', 2e9], ['1KiB', 1000], ['7b', 7]];
  for (const [text, bytes] of cases) assert.equal(parseSize(text), bytes, text);
  assert.throws(() => parseSize('abc'), /invalid size: 'abc'/);
  assert.throws(() => parseSize('10q'), /invalid suffix: 'q'/);
  assert.throws(() => parseSize('10kbb'), /invalid suffix: 'kbb'/);
  assert.throws(() => parseSize('1.2.3k'), /strconv.ParseFloat: parsing "1.2.3": invalid syntax/);
});

test('the daemon\'s default driver and options are merged under the request\'s, for the same driver only', () => {
  const defaults = daemonLogConfig({ 'log-driver': 'json-file', 'log-opts': ['max-size=5m', 'max-file=2'] });
  assert.deepEqual(defaults, { Type: 'json-file', Config: { 'max-size': '5m', 'max-file': '2' } });
  assert.deepEqual(daemonLogConfig({ 'log-opts': { 'max-size': '1m' } }), { Type: 'json-file', Config: { 'max-size': '1m' } });
  assert.deepEqual(resolveLogConfig({ Type: '', Config: { 'max-file': '3' } }, defaults), { Type: 'json-file', Config: { 'max-size': '5m', 'max-file': '3' } });
  assert.deepEqual(resolveLogConfig(null, defaults), { Type: 'json-file', Config: { 'max-size': '5m', 'max-file': '2' } });
  assert.deepEqual(resolveLogConfig({ Type: 'none' }, defaults), { Type: 'none', Config: {} });
  assert.deepEqual(resolveLogConfig({ Type: 'local', Config: {} }, defaults), { Type: 'local', Config: {} });
});

test('bad drivers and options are refused with dockerd\'s messages (400)', () => {
  const refused: [string, Record<string, string>, RegExp][] = [
    ['syslogx', {}, /^logger: no log driver named 'syslogx' is registered$/],
    ['json-file', { 'max-size': '-1' }, /^invalid size: '-1'$/],
    ['json-file', { 'max-file': '-2' }, /^max-file cannot be less than 1$/],
    ['json-file', { compress: 'true', 'max-size': '1m' }, /^compress cannot be true when max-file is less than 2 or max-size is not set$/],
    ['json-file', { 'max-buffer-size': '1m' }, /^logger: max-buffer-size option is only supported with 'mode=non-blocking'$/],
    ['local', { foo: '1' }, /^unknown log opt 'foo' for log driver local$/],
    ['local', { 'max-file': 'x' }, /^invalid value for max-file: x: strconv.Atoi: parsing "x": invalid syntax$/],
    ['local', { 'max-file': '1' }, /^compression cannot be enabled when max file count is 1$/],
  ];
  for (const [Type, Config, message] of refused) {
    assert.throws(() => validateLogConfig({ Type, Config }), (err: Error & { code?: string }) => message.test(err.message) && err.code === 'E_INVALID', `${Type} ${JSON.stringify(Config)}`);
  }
  validateLogConfig({ Type: 'json-file', Config: { mode: 'non-blocking', 'max-buffer-size': '4m', tag: 'x', labels: 'a' } });
  validateLogConfig({ Type: 'none', Config: { anything: 'goes' } });
  validateLogConfig({ Type: 'local', Config: { 'max-file': '1', compress: 'false' } });
});

test('rotation: json-file only with max-size (max-file 1 by default); local rotates by default', () => {
  assert.equal(rotationOf({ Type: 'json-file', Config: {} }), undefined);
  assert.equal(rotationOf({ Type: 'json-file', Config: { 'max-file': '3' } }), undefined, 'max-file alone has no effect, as in dockerd');
  assert.deepEqual(rotationOf({ Type: 'json-file', Config: { 'max-size': '1k' } }), { maxSize: 1000, maxFiles: 1 });
  assert.deepEqual(rotationOf({ Type: 'local', Config: {} }), { maxSize: 20 * 1024 * 1024, maxFiles: 5 });
  assert.equal(rotationOf({ Type: 'none', Config: {} }), undefined);
});

test('docker logs -t prints RFC 3339 in UTC with nine fraction digits, from conmon\'s local time', () => {
  assert.equal(utcTimestamp('2026-11-22T10:00:00.123456789+02:00'), '2026-11-22T08:00:00.123456789Z');
  assert.equal(utcTimestamp('2026-11-21T23:30:00.5-01:00'), '2026-11-22T00:30:00.500000000Z');
  assert.equal(utcTimestamp('2026-11-22T08:00:00Z'), '2026-11-22T08:00:00.000000000Z');
});
