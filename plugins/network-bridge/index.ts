// The bridge driver plugin: reads dockerd's bridge options (refusing contradictions at start)
// and registers the driver of kind "network".
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { definePlugin } from '../../core/plugin-api.js';
import type { NetworkDriverRegistration } from '../network/index.js';
import { readConfig } from './bridge-config.js';
import { BridgeDriver } from './bridge-driver.js';
import { Iptables } from './iptables.js';
import { ProxyProcesses } from './proxy-processes.js';

export default definePlugin({
  init(ctx) {
    const cfg = readConfig(ctx.config);
    // Rules carry this daemon's tag: its own are found again after a crash, others' never touched.
    const tag = createHash('sha256').update(ctx.daemon.dataRoot).digest('hex').slice(0, 12);
    // Port proxies are processes of their own, recorded in the exec root (they end with the host).
    const proxies = new ProxyProcesses(join(ctx.daemon.execRoot, 'port-proxies'), ctx.fs, ctx.log);
    const driver = new BridgeDriver(cfg, cfg.iptables ? new Iptables(tag) : null, cfg.iptables ? new Iptables(tag, 'ip6') : null, ctx.stateDir, ctx.log, ctx.fs, proxies);
    ctx.drivers.register<NetworkDriverRegistration>('network', { name: driver.name, api: '1.2.0', driver });
  },
});
