// `docker run --rm busybox true` on the default bridge network (issue 5): each daemon on a bridge
// and subnet the bench makes for it (never docker0 or berth0) and removes afterwards; neither
// touches the host's iptables (--iptables=false), the run sends no traffic.
import { median, type Benchmark } from './benchmark.js';
import { IMAGE, withBusybox } from './busybox-daemon.js';
import { COUNTS } from './counts.js';
import { type DaemonSpec } from './daemons.js';
import { dockerOk } from './docker-cli.js';
import { assertSubnetsFree, deleteLink, makeBridge } from '../helpers/network.js';

const BRIDGES: Record<string, { name: string; gateway: string; subnet: string }> = {
  berth: { name: 'bbench-b0', gateway: '10.123.210.1/24', subnet: '10.123.210.' },
  dockerd: { name: 'bbench-d0', gateway: '10.123.211.1/24', subnet: '10.123.211.' },
};

const RUN_ON_BRIDGE = ['run', '--rm', IMAGE, 'true'];

/** The daemon's command line with its "no bridge" setting swapped for the bench's bridge. */
function onBridge(spec: DaemonSpec, bridge: string): DaemonSpec {
  return {
    ...spec,
    command: (dir) => {
      const c = spec.command(dir);
      // Either form of the flag: `--bridge=none` (dockerd's spec) or `--bridge none` (berthd's).
      const args = c.args.map((a, i) => (a === '--bridge=none' ? `--bridge=${bridge}` : a === 'none' && c.args[i - 1] === '--bridge' ? bridge : a));
      if (!args.some((a, i) => a === `--bridge=${bridge}` || (a === bridge && args[i - 1] === '--bridge'))) {
        throw new Error(`${spec.name}: no "no bridge" setting to swap for ${bridge} in ${c.args.join(' ')}`);
      }
      return { file: c.file, args: spec.name === 'berth' ? [...args, '--iptables=false'] : args };
    },
  };
}

export const runBridge: Benchmark = {
  name: 'run-bridge',
  metrics: ['runBridgeMs'],
  async run(spec) {
    const b = BRIDGES[spec.name];
    if (!b) throw new Error(`no bench bridge for ${spec.name}`);
    assertSubnetsFree([b.subnet]);
    makeBridge(b.name, b.gateway);
    try {
      return await withBusybox(onBridge(spec, b.name), async (d) => {
        // The runs must really be wired to the bridge: eth0 with an address of its subnet.
        const addr = await dockerOk(d, ['run', '--rm', IMAGE, 'busybox', 'ip', '-4', 'addr', 'show', 'eth0']);
        if (!addr.stdout.includes(b.subnet)) throw new Error(`${spec.name}: the container's eth0 has no ${b.subnet}x address:\n${addr.stdout}`);
        for (let i = 0; i < COUNTS.warmups; i++) await dockerOk(d, RUN_ON_BRIDGE);
        const times: number[] = [];
        for (let i = 0; i < COUNTS.runs; i++) times.push((await dockerOk(d, RUN_ON_BRIDGE)).ms);
        return { runBridgeMs: median(times) };
      });
    } finally {
      deleteLink(b.name);
    }
  },
};
