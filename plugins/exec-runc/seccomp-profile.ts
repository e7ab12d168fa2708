// Turns a profile in Docker's seccomp format (archMap, includes/excludes by caps, arch and
// kernel) into the OCI linux.seccomp object for one host and one capability set, as moby's
// profiles/seccomp package does when it sets up a container.
import { invalid } from '../../core/plugin-api.js';
import defaultProfile from './seccomp-default.json' with { type: 'json' };

interface DockerFilter { caps?: string[] | null; arches?: string[] | null; minKernel?: string }
interface DockerSyscall {
  names?: string[];
  name?: string;
  action: string;
  errnoRet?: number;
  args?: { index: number; value: number; valueTwo?: number; op: string }[] | null;
  includes?: DockerFilter;
  excludes?: DockerFilter;
}
export interface DockerSeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures: string[] | null }[];
  syscalls?: DockerSyscall[];
  flags?: string[];
  listenerPath?: string;
}
export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  syscalls: { names: string[]; action: string; errnoRet?: number; args?: DockerSyscall['args'] }[];
}

/** Node's process.arch in Go's GOARCH words, which the profile's includes/excludes use. */
const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', s390x: 's390x', ppc64: 'ppc64le', riscv64: 'riscv64', loong64: 'loong64', mips64el: 'mips64le' };
const SECCOMP_ARCH: Record<string, string> = {
  amd64: 'SCMP_ARCH_X86_64', arm64: 'SCMP_ARCH_AARCH64', arm: 'SCMP_ARCH_ARM', '386': 'SCMP_ARCH_X86', s390x: 'SCMP_ARCH_S390X',
  ppc64le: 'SCMP_ARCH_PPC64LE', riscv64: 'SCMP_ARCH_RISCV64', loong64: 'SCMP_ARCH_LOONGARCH64', mips64le: 'SCMP_ARCH_MIPSEL64',
};

export const DEFAULT_SECCOMP_PROFILE = defaultProfile as DockerSeccompProfile;

export function goArch(nodeArch: string = process.arch): string {
  return GOARCH[nodeArch] ?? nodeArch;
}

/** "6.1.0-18-amd64" → [6, 1]; a profile's minKernel compares on major.minor as moby does. */
function kernelAtLeast(kernel: string, min: string): boolean {
  const [a = 0, b = 0] = kernel.split(/[.-]/).map(Number);
  const [x = 0, y = 0] = min.split('.').map(Number);
  return a > x || (a === x && b >= y);
}

/** Parses a --security-opt seccomp=<JSON> profile; the message names what is wrong. */
export function parseSeccompProfile(json: string): DockerSeccompProfile {
  let profile: DockerSeccompProfile;
  try {
    profile = JSON.parse(json) as DockerSeccompProfile;
  } catch (err) {
    throw invalid(`Decoding seccomp profile failed: ${(err as Error).message}`);
  }
  if (typeof profile?.defaultAction !== 'string') throw invalid('Decoding seccomp profile failed: defaultAction is required');
  if (profile.archMap?.length && profile.architectures?.length) {
    throw invalid("'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  return profile;
}

export function toOciSeccomp(profile: DockerSeccompProfile, opts: { capabilities: string[]; arch?: string; kernel: string }): OciSeccomp {
  const arch = opts.arch ?? goArch();
  const out: OciSeccomp = { defaultAction: profile.defaultAction, syscalls: [] };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  if (profile.flags?.length) out.flags = profile.flags;
  if (profile.architectures?.length) out.architectures = profile.architectures;
  const native = SECCOMP_ARCH[arch];
  for (const entry of profile.archMap ?? []) {
    if (entry.architecture === native) out.architectures = [entry.architecture, ...(entry.subArchitectures ?? [])];
  }
  for (const call of profile.syscalls ?? []) {
    const ex = call.excludes ?? {};
    const inc = call.includes ?? {};
    if (ex.arches?.includes(arch)) continue;
    if (ex.caps?.some((c) => opts.capabilities.includes(c))) continue;
    if (ex.minKernel && kernelAtLeast(opts.kernel, ex.minKernel)) continue;
    if (inc.arches?.length && !inc.arches.includes(arch)) continue;
    if (inc.caps?.length && !inc.caps.every((c) => opts.capabilities.includes(c))) continue;
    if (inc.minKernel && !kernelAtLeast(opts.kernel, inc.minKernel)) continue;
    const names = call.names?.length ? call.names : call.name ? [call.name] : [];
    const rule: OciSeccomp['syscalls'][number] = { names, action: call.action };
    if (call.errnoRet !== undefined) rule.errnoRet = call.errnoRet;
    if (call.args?.length) rule.args = call.args;
    out.syscalls.push(rule);
  }
  return out;
}
