// Limits of the host the daemon runs on: the highest RLIMIT_NOFILE it can give a container (without
// CAP_SYS_RESOURCE runc cannot raise the hard limit above the daemon's own) and its bounding set.
import { readFile } from 'node:fs/promises';
import { ALL_CAPABILITIES } from './capabilities.js';

const CAP_SYS_RESOURCE = 24n;

export async function hostNofileLimit(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8');
  const capEff = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0'}`);
  if ((capEff >> CAP_SYS_RESOURCE) & 1n) return Number((await readFile('/proc/sys/fs/nr_open', 'utf8')).trim());
  const limits = await readFile('/proc/self/limits', 'utf8');
  const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(limits)?.[1];
  return hard === undefined || hard === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(hard);
}

/** The daemon's bounding capability set: a container cannot get more (privileged means "all of these"). */
export async function hostBoundingCapabilities(): Promise<string[]> {
  const status = await readFile('/proc/self/status', 'utf8');
  const bnd = BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0'}`);
  return ALL_CAPABILITIES.filter((_, bit) => (bnd >> BigInt(bit)) & 1n);
}
