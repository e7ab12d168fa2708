// The network-driver conformance suite on the built-in bridge driver and on the example
// third-party driver (test/fixtures/plugins/net-veth), both loaded from their plugin folders as
// the daemon loads them; and, when BERTH_NETWORK_DRIVER_DIR names a driver plugin folder, on that
// driver with the capabilities BERTH_NETWORK_DRIVER_CAPS (JSON) claims for it.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { networkDriverConformance, openNetworkDriverPlugin, type NetworkConformanceOptions } from './helpers/network-conformance.js';

const DIST = fileURLToPath(new URL('..', import.meta.url));
const REPO = join(DIST, '..');

// Bridges of the suite's own (bnc0, bnc1 …), never berth0 or docker0. ip-forward off: the suite
// changes no host-wide sysctl (traffic stays on one bridge and the host's own routes).
networkDriverConformance('bridge', openNetworkDriverPlugin(join(DIST, 'plugins/network-bridge'), { 'ip-forward': false }), {
  publishesPorts: true,
  connectivity: true,
  mtuOption: 'com.docker.network.driver.mtu',
  networkOptions: (n) => ({ 'com.docker.network.bridge.name': `bnc${n}` }),
  badOptions: [
    { options: { 'com.docker.network.bridge.name': 'a/b' }, key: 'com.docker.network.bridge.name' },
    { options: { 'com.docker.network.bridge.enable_icc': 'maybe' }, key: 'com.docker.network.bridge.enable_icc' },
    { options: { 'com.docker.network.driver.mtu': 'big' }, key: 'com.docker.network.driver.mtu' },
  ],
  iptablesChains: /^BERTH/,
});

// The example third-party driver: a veth pair per endpoint, nothing else; no ports, no peers.
networkDriverConformance('veth (test/fixtures/plugins/net-veth)', openNetworkDriverPlugin(join(REPO, 'test/fixtures/plugins/net-veth')), {
  mtuOption: 'veth.mtu',
  shutdown: false,
  defaultNetwork: false,
  badOptions: [
    { options: { 'veth.colour': 'red' }, key: 'veth.colour' },
    { options: { 'veth.mtu': '1400b' }, key: 'veth.mtu' },
  ],
});

const thirdParty = process.env.BERTH_NETWORK_DRIVER_DIR;
if (thirdParty) {
  const caps = JSON.parse(process.env.BERTH_NETWORK_DRIVER_CAPS ?? '{}') as Omit<NetworkConformanceOptions, 'iptablesChains' | 'networkOptions'> & {
    iptablesChains?: string; networkOptions?: Record<string, string>; config?: Record<string, unknown>;
  };
  const { iptablesChains, networkOptions, config, ...rest } = caps;
  networkDriverConformance(`third-party plugin in ${thirdParty}`, openNetworkDriverPlugin(thirdParty, config), {
    ...rest,
    ...(iptablesChains ? { iptablesChains: new RegExp(iptablesChains) } : {}),
    // "{n}" in a value is the network's number within a test: two networks get two bridge names.
    ...(networkOptions ? { networkOptions: (n: number) => Object.fromEntries(Object.entries(networkOptions).map(([k, v]) => [k, v.replaceAll('{n}', String(n))])) } : {}),
  });
}
