// The bridge driver's daemon options (dockerd's names), checked at start with dockerd's reasons,
// and the options `docker network create -o` may set.
import { configError } from '../../core/plugin-api.js';
import { isIp, parseCidr } from '../network/index.js';

export const DEFAULT_BRIDGE = 'berth0';

export interface BridgeConfig {
  /** '' for berth0 (created by the daemon), 'none' for no default network, else an existing bridge. */
  bridge: string;
  bip: string;
  fixedCidr: string;
  mtu: number;
  ip: string;
  iptables: boolean;
  ipForward: boolean;
  ipMasq: boolean;
  icc: boolean;
}

export function readConfig(c: Record<string, unknown>): BridgeConfig {
  const cfg: BridgeConfig = {
    bridge: String(c.bridge ?? ''), bip: String(c.bip ?? ''), fixedCidr: String(c['fixed-cidr'] ?? ''), mtu: Number(c.mtu ?? 1500),
    ip: String(c.ip || '0.0.0.0'), iptables: c.iptables !== false, ipForward: c['ip-forward'] !== false, ipMasq: c['ip-masq'] !== false, icc: c.icc !== false,
  };
  if (cfg.bridge && cfg.bridge !== DEFAULT_BRIDGE && cfg.bip) throw configError('You specified -b & --bip, mutually exclusive options. Please specify only one');
  if (!cfg.iptables && !cfg.icc) throw configError('You specified --iptables=false with --icc=false. ICC=false uses iptables to function. Please set --icc or --iptables to true.');
  // As dockerd: masquerading needs iptables, so it is off without them.
  if (!cfg.iptables) cfg.ipMasq = false;
  if (cfg.bip) try { parseCidr(cfg.bip); } catch { throw configError(`invalid bip: ${cfg.bip}`); }
  if (cfg.fixedCidr) try { parseCidr(cfg.fixedCidr); } catch { throw configError(`invalid fixed-cidr: ${cfg.fixedCidr}`); }
  if (!isIp(cfg.ip)) throw configError(`invalid IP address for --ip: ${cfg.ip}`);
  if (cfg.bridge.length > 15 || /[\s/]/.test(cfg.bridge)) throw configError(`invalid bridge name: ${cfg.bridge}`);
  return cfg;
}

export const OPT = {
  name: 'com.docker.network.bridge.name',
  icc: 'com.docker.network.bridge.enable_icc',
  masq: 'com.docker.network.bridge.enable_ip_masquerade',
  hostIp: 'com.docker.network.bridge.host_binding_ipv4',
  mtu: 'com.docker.network.driver.mtu',
  isDefault: 'com.docker.network.bridge.default_bridge',
} as const;

const bool = { type: 'string', enum: ['true', 'false', '1', '0'] };
export const OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: { type: 'string' },
  properties: {
    [OPT.name]: { type: 'string', pattern: '^[^\\s/]{1,15}$' },
    [OPT.icc]: bool,
    [OPT.masq]: bool,
    [OPT.hostIp]: { type: 'string', pattern: '^\\d{1,3}(\\.\\d{1,3}){3}$' },
    [OPT.mtu]: { type: 'string', pattern: '^\\d{2,5}$' },
    'com.docker.network.bridge.enable_ip_forwarding': bool,
  },
};

/** The per-network settings: its options over the daemon's. */
export function networkSettings(opts: Record<string, string>, cfg: BridgeConfig, id: string) {
  const flag = (k: string, d: boolean) => (opts[k] === undefined ? d : opts[k] === 'true' || opts[k] === '1');
  return {
    bridge: opts[OPT.name] || `br-${id.slice(0, 12)}`,
    icc: flag(OPT.icc, true),
    masq: flag(OPT.masq, true) && cfg.iptables,
    hostIp: opts[OPT.hostIp] || cfg.ip,
    mtu: Number(opts[OPT.mtu] || cfg.mtu),
  };
}
