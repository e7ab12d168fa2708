// The driver's cgroup-facing operations: live limit updates through `runc update`, and stats
// and pids read from the container's cgroup files.
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { conflict } from '../../core/plugin-api.js';
import type { ContainerStats, LinuxResources } from '../exec/index.js';
import { cgroupLayout, type CgroupLayout } from './cgroup-paths.js';
import { cgroupPids, procsDir, readCgroupStats } from './cgroup-stats.js';
import type { RuntimeCli } from './runtime-cli.js';
import type { ContainerMeta, StateLayout } from './state-layout.js';

const exists = (p: string) => access(p).then(() => true, () => false);

const cgroupsPathOf = (id: string, meta: ContainerMeta) => meta.cgroupsPath ?? `/berth/${id}`;

/** A host without swap accounting (v1 without memory.memsw.*) refuses a swap value: leave it out. */
async function forThisHost(r: LinuxResources, layout: CgroupLayout): Promise<LinuxResources> {
  if (r.memory?.swap === undefined) return r;
  const swapFile = layout.version === 2 ? join(layout.dir, 'memory.swap.max') : layout.dirs.memory && join(layout.dirs.memory, 'memory.memsw.limit_in_bytes');
  if (swapFile && (await exists(swapFile))) return r;
  const { swap: _dropped, ...memory } = r.memory;
  return { ...r, memory };
}

export async function updateResources(cli: RuntimeCli, state: StateLayout, id: string, meta: ContainerMeta, resources: LinuxResources): Promise<void> {
  const layout = await cgroupLayout(cgroupsPathOf(id, meta));
  // runc reads LinuxResources JSON (the OCI spec's shape) from a file: 0 or absent leaves a value.
  const file = join(state.container(id), 'update-resources.json');
  await writeFile(file, JSON.stringify(await forThisHost(resources, layout)), { mode: 0o600 });
  await cli.run(['update', '--resources', file, id]);
}

async function runningLayout(id: string, meta: ContainerMeta): Promise<{ layout: CgroupLayout; dir: string }> {
  const layout = await cgroupLayout(cgroupsPathOf(id, meta));
  const dir = procsDir(layout);
  if (!dir || !(await exists(dir))) throw conflict(`Container ${id} is not running`);
  return { layout, dir };
}

export async function containerStats(state: StateLayout, id: string, meta: ContainerMeta): Promise<ContainerStats> {
  const { layout } = await runningLayout(id, meta);
  // conmon wrote the init's pid when it created the container; no runtime call per sample.
  const pid = Number((await readFile(state.containerPid(id), 'utf8').catch(() => '0')).trim()) || 0;
  return readCgroupStats(layout, pid);
}

export async function containerPids(id: string, meta: ContainerMeta): Promise<number[]> {
  return cgroupPids((await runningLayout(id, meta)).dir);
}
