// The CRI log reader on files written here as conmon writes them: rotated files read oldest
// first, --tail counting lines cut into P records, since/until with nanoseconds and offsets,
// and a follow that goes on across a rotation and across a log started afresh.
import assert from 'node:assert/strict';
import { appendFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { LogEntry, LogReadOptions } from '../plugins/exec/driver.js';
import { readLogs } from '../plugins/exec-runc/log-reader.js';
import { makeTempDir } from './helpers/daemon.js';

const dir = makeTempDir('berth-logread-');
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `c${n++}.log`);

const rec = (text: string, o: { tag?: 'F' | 'P'; stream?: string; time?: string } = {}) =>
  `${o.time ?? '2026-11-22T10:00:00.000000001+02:00'} ${o.stream ?? 'stdout'} ${o.tag ?? 'F'} ${text}\n`;

async function read(path: string, opts?: LogReadOptions): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of readLogs(path, opts)) out.push(e);
  return out;
}
const texts = (es: LogEntry[]) => es.map((e) => e.line.toString() + (e.partial ? '' : '|'));

test('rotated files are read oldest first, then the log', async () => {
  const log = fresh();
  writeFileSync(`${log}.2`, rec('one'));
  writeFileSync(`${log}.1`, rec('two') + rec('three', { stream: 'stderr' }));
  writeFileSync(log, rec('four'));
  const all = await read(log);
  assert.deepEqual(texts(all), ['one|', 'two|', 'three|', 'four|']);
  assert.equal(all[2].stream, 'stderr');
});

test('--tail counts lines, a line cut into P records being one, across files; 0 gives nothing', async () => {
  const log = fresh();
  writeFileSync(`${log}.1`, rec('a') + rec('b1', { tag: 'P' }));
  writeFileSync(log, rec('b2') + rec('c') + rec('d1', { tag: 'P' }) + rec('d2', { tag: 'P' }));
  assert.deepEqual(texts(await read(log, { tail: 1 })), ['d1', 'd2'], 'the unfinished last line');
  assert.deepEqual(texts(await read(log, { tail: 2 })), ['c|', 'd1', 'd2']);
  assert.deepEqual(texts(await read(log, { tail: 3 })), ['b1', 'b2|', 'c|', 'd1', 'd2'], 'a line split across files');
  assert.deepEqual(texts(await read(log, { tail: 9 })), ['a|', 'b1', 'b2|', 'c|', 'd1', 'd2']);
  assert.deepEqual(await read(log, { tail: 0 }), []);
});

test('--tail on a long log reads back across chunk boundaries; a record still being written is left out', async () => {
  const log = fresh();
  let body = '';
  for (let i = 0; i < 5000; i++) body += rec(`line-${i}-${'x'.repeat(i % 97)}`);
  writeFileSync(log, `${body}2026-11-22T10:00:00.000000001+02:00 stdout F half`);
  const last = (k: number) => Array.from({ length: k }, (_, j) => 5000 - k + j);
  const nums = (es: LogEntry[]) => es.map((e) => Number(e.line.toString().split('-')[1]));
  assert.deepEqual(nums(await read(log, { tail: 3 })), last(3));
  assert.deepEqual(nums(await read(log, { tail: 4321 })), last(4321));
  assert.equal((await read(log)).length, 5000);
});

test('since and until compare nanoseconds, whatever the offset; the first entry after until ends the read', async () => {
  const log = fresh();
  writeFileSync(log, rec('a', { time: '2026-11-22T10:00:00.100000000+02:00' })
    + rec('b', { time: '2026-11-22T08:00:00.200000000Z' })
    + rec('c', { time: '2026-11-22T03:00:00.300000000-05:00' }));
  const t = (iso: string) => Date.parse(iso) / 1000;
  assert.deepEqual(texts(await read(log, { since: t('2026-11-22T08:00:00.150Z') })), ['b|', 'c|']);
  assert.deepEqual(texts(await read(log, { until: t('2026-11-22T08:00:00.250Z') })), ['a|', 'b|']);
  assert.deepEqual(texts(await read(log, { since: t('2026-11-22T08:00:00.150Z'), until: t('2026-11-22T08:00:00.250Z') })), ['b|']);
});

/** Follows `log` while `steps` change the files, then stops the follow and returns what it read. */
async function followThrough(log: string, steps: (() => void)[]): Promise<string[]> {
  const stop = new AbortController();
  const got: LogEntry[] = [];
  const reading = (async () => {
    for await (const e of readLogs(log, { follow: true, signal: stop.signal })) got.push(e);
  })();
  for (const step of steps) {
    step();
    await new Promise((r) => setTimeout(r, 400)); // more than one poll tick: each step is seen
  }
  stop.abort();
  await reading;
  return texts(got);
}

test('follow goes on across a rotation: the renamed file to its end, then the new log', async () => {
  const log = fresh();
  writeFileSync(log, rec('1'));
  const seen = await followThrough(log, [
    () => appendFileSync(log, rec('2')),
    () => {
      renameSync(log, `${log}.1`); // the daemon's rename; conmon still writes to the old file
      appendFileSync(`${log}.1`, rec('3'));
    },
    () => {
      appendFileSync(`${log}.1`, rec('4'));
      writeFileSync(log, rec('5')); // conmon's reopen
    },
    () => appendFileSync(log, rec('6')),
  ]);
  assert.deepEqual(seen, ['1|', '2|', '3|', '4|', '5|', '6|']);
});

test('follow goes on when the log is replaced (max-file 1) and when it appears only later', async () => {
  const log = fresh();
  const seen = await followThrough(log, [
    () => writeFileSync(log, rec('1')),
    () => {
      appendFileSync(log, rec('2'));
      writeFileSync(`${log}.tmp`, rec('3'));
      renameSync(`${log}.tmp`, log);
    },
    () => appendFileSync(log, rec('4')),
  ]);
  assert.deepEqual(seen, ['1|', '2|', '3|', '4|']);
});
