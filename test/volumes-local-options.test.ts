// The local driver's option rules and the mount(8) call it makes, for nfs and cifs too: tests
// cannot reach an NFS or CIFS server, so these cover dockerd's validation and the arguments of the
// mount call (an addr= host name resolved first), not a real network mount.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mountArguments, validateLocalOptions } from '../plugins/volume-local/local-options.js';

const resolve = async (host: string) => {
  assert.equal(host, 'nfs.example');
  return '192.0.2.7';
};

test('validation: dockerd\'s rules and messages', () => {
  assert.equal(validateLocalOptions({}), null);
  assert.throws(() => validateLocalOptions({ device: '/dev/x' }), /missing required option: "type"/);
  assert.throws(() => validateLocalOptions({ type: 'nfs' }), /missing required option: "device"/);
  assert.throws(() => validateLocalOptions({ o: 'addr=1.2.3.4' }), /missing required option: "device"/);
  assert.throws(() => validateLocalOptions({ type: 'nfs', o: 'addr=1.2.3.4' }), /missing required option: "device"/);
  assert.throws(() => validateLocalOptions({ colour: 'red' }), /invalid option: "colour"/);
  assert.throws(() => validateLocalOptions({ size: '1g' }), /quota size requested but no quota support/);
  assert.throws(() => validateLocalOptions({ size: 'lots' }), /invalid size: 'lots'/);
  assert.deepEqual(validateLocalOptions({ type: 'nfs', device: ':/export', o: 'addr=nfs.example,rw' }), { MountType: 'nfs', MountDevice: ':/export', MountOpts: 'addr=nfs.example,rw' });
});

test('mount arguments: nfs with a host name resolved, cifs device rewritten, bind, tmpfs', async () => {
  assert.deepEqual(await mountArguments({ MountType: 'nfs', MountDevice: ':/export', MountOpts: 'addr=nfs.example,rw,nfsvers=4' }, '/v/_data', resolve),
    ['-t', 'nfs', '-o', 'addr=192.0.2.7,rw,nfsvers=4', ':/export', '/v/_data']);
  assert.deepEqual(await mountArguments({ MountType: 'nfs', MountDevice: ':/export', MountOpts: 'addr=10.0.0.1' }, '/v/_data', resolve),
    ['-t', 'nfs', '-o', 'addr=10.0.0.1', ':/export', '/v/_data'], 'an address is used as is');
  assert.deepEqual(await mountArguments({ MountType: 'cifs', MountDevice: '//nfs.example/share', MountOpts: 'addr=nfs.example,username=u' }, '/v/_data', resolve),
    ['-t', 'cifs', '-o', 'addr=192.0.2.7,username=u', '//192.0.2.7/share', '/v/_data']);
  assert.deepEqual(await mountArguments({ MountType: 'none', MountDevice: '/srv/x', MountOpts: 'bind' }, '/v/_data', resolve), ['-o', 'bind', '/srv/x', '/v/_data']);
  assert.deepEqual(await mountArguments({ MountType: 'tmpfs', MountDevice: 'tmpfs', MountOpts: '' }, '/v/_data', resolve), ['-t', 'tmpfs', 'tmpfs', '/v/_data']);
});
