// The local driver's options as dockerd validates them (volume/local/local_unix.go): only type,
// device, o and size; device and type go together, o needs both; size needs quota support, which
// Berth has not (refused, never ignored).
import { invalid } from '../../core/plugin-api.js';

/** What is kept in <root>/<name>/opts.json, dockerd's own field names. */
export interface MountOptions { MountType: string; MountOpts: string; MountDevice: string }

const VALID = new Set(['type', 'device', 'o', 'size']);
const MANDATORY: Record<string, string[]> = { device: ['type'], type: ['device'], o: ['device', 'type'] };

export function validateLocalOptions(opts: Record<string, string>): MountOptions | null {
  const keys = Object.keys(opts);
  if (!keys.length) return null;
  for (const k of keys) if (!VALID.has(k)) throw invalid(`invalid option: ${JSON.stringify(k)}`);
  if ('size' in opts) {
    if (!/^\s*\d+(\.\d+)?\s*([kmgtp]i?b?|b)?\s*$/i.test(opts.size)) throw invalid(`invalid size: '${opts.size}'`);
    if (parseFloat(opts.size) !== 0) throw invalid('quota size requested but no quota support');
  }
  for (const [opt, needs] of Object.entries(MANDATORY)) {
    if (!(opt in opts)) continue;
    for (const need of needs) if (!(need in opts)) throw invalid(`missing required option: ${JSON.stringify(need)}`);
  }
  if (!opts.type) return null;
  return { MountType: opts.type, MountOpts: opts.o ?? '', MountDevice: opts.device ?? '' };
}

/** The addr= value of mount options (nfs, cifs), if any. */
export function addressOf(mountOpts: string): string | undefined {
  for (const o of mountOpts.split(',')) if (o.startsWith('addr=')) return o.slice(5);
  return undefined;
}

/**
 * The mount(8) arguments for a volume, after an addr= host name is resolved (as dockerd does:
 * the kernel's nfs and cifs clients take addresses, not names).
 */
export async function mountArguments(m: MountOptions, target: string, resolve: (host: string) => Promise<string>): Promise<string[]> {
  let opts = m.MountOpts;
  let device = m.MountDevice;
  const addr = addressOf(opts);
  if (addr && !/^[0-9.]+$/.test(addr) && !addr.includes(':')) {
    const ip = await resolve(addr);
    opts = opts.replace(`addr=${addr}`, `addr=${ip}`);
    if (m.MountType === 'cifs') device = device.replace(`//${addr}`, `//${ip}`);
  }
  // type=none o=bind: a bind mount, as dockerd's local driver makes it.
  return [...(m.MountType === 'none' ? [] : ['-t', m.MountType]), ...(opts ? ['-o', opts] : []), device, target];
}
