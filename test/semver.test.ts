// The core's version checks decide the common forms without the semver package (start-up time):
// they must answer exactly as the package does, for those forms and for the ones they hand over.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import coerce from 'semver/functions/coerce.js';
import lt from 'semver/functions/lt.js';
import realSatisfies from 'semver/functions/satisfies.js';
import valid from 'semver/functions/valid.js';
import validRange from 'semver/ranges/valid.js';
import { coerceVersion, isRange, isVersion, olderThan, satisfies } from '../core/semver.js';

const nums = ['0', '1', '2', '10'];
const versions = nums.flatMap((a) => nums.flatMap((b) => nums.map((c) => `${a}.${b}.${c}`)));
const ranges = [
  '*', ...versions, ...versions.map((v) => `^${v}`),
  ...nums.map((a) => `^${a}`), ...nums.flatMap((a) => nums.map((b) => `^${a}.${b}`)),
  // Handed over to the package:
  '>=1.1 <3', '~1.2', '1.x', '^1.2.3-beta', '>=0.0.0', '', 'latest', '^01', '^1.2.3.4', ' ^1',
];
const odd = ['1.0.0-beta', '01.0.0', '1.0', ' 1.0.0', 'v1.0.0', '1.0.0+build', '99999999999999999.0.0', '', 'x'];

test('isVersion and isRange agree with semver.valid and semver.validRange', () => {
  for (const v of [...versions, ...odd]) assert.equal(isVersion(v), valid(v) !== null, v);
  for (const r of [...ranges, ...odd]) assert.equal(isRange(r), validRange(r) !== null, r);
});

test('satisfies agrees with semver.satisfies for every version and range form', () => {
  for (const v of [...versions, '1.0.0-beta', '1.2.3-rc.1']) {
    for (const r of ranges) assert.equal(satisfies(v, r), realSatisfies(v, r), `${v} ${r}`);
  }
});

test('coerceVersion and olderThan agree with semver.coerce and semver.lt', () => {
  const strings = ['6.1.0-18-amd64', '5.15.0', '4.0', '4', '3.10.0-1160.el7.x86_64', '1.2.3.4', '01.2.3', '1.02.3', '1.2.03-x', 'v5.4', 'linux-5.4.0', '1.', ''];
  for (const s of strings) {
    const c = coerce(s);
    assert.deepEqual(coerceVersion(s), c ? { major: c.major, minor: c.minor, patch: c.patch } : undefined, s);
  }
  for (const a of versions) {
    for (const b of versions) assert.equal(olderThan(coerceVersion(a)!, coerceVersion(b)!), lt(a, b), `${a} < ${b}`);
  }
});
