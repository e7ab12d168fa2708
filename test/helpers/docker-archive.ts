// Builds docker-archive files (the `docker save` layout) from layer tars, for load tests.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const sha256File = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Writes <dir>/archive.tar holding one image made of `layerTars` (bottom first), tagged `tags`. */
export function makeDockerArchive(dir: string, layerTars: string[], tags: string[], name = 'archive.tar'): { path: string; diffIds: string[] } {
  const staging = join(dir, `${name}.d`);
  mkdirSync(staging, { recursive: true });
  const diffIds = layerTars.map((t) => `sha256:${sha256File(t)}`);
  const layers = layerTars.map((t, i) => {
    const id = createHash('sha256').update(`${diffIds[i]}-${i}`).digest('hex');
    mkdirSync(join(staging, id), { recursive: true });
    renameSync(t, join(staging, id, 'layer.tar'));
    writeFileSync(join(staging, id, 'VERSION'), '1.0');
    writeFileSync(join(staging, id, 'json'), JSON.stringify({ id }));
    return `${id}/layer.tar`;
  });
  const created = new Date().toISOString();
  const config = JSON.stringify({
    architecture: 'amd64', os: 'linux', created,
    config: { Cmd: ['sh'] },
    history: layers.map(() => ({ created, created_by: 'test' })),
    rootfs: { type: 'layers', diff_ids: diffIds },
  });
  const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
  writeFileSync(join(staging, configName), config);
  writeFileSync(join(staging, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: tags, Layers: layers }]));
  const path = join(dir, name);
  execFileSync('tar', ['-C', staging, '-cf', path, '.']);
  return { path, diffIds };
}

/** A layer tar of `count` files of `size` random bytes each. */
export function makeRandomLayer(dir: string, name: string, count: number, size: number): string {
  const root = join(dir, `${name}.root`);
  mkdirSync(join(root, 'data'), { recursive: true });
  const block = Buffer.alloc(size);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < size; j += 4) block.writeUInt32LE((Math.random() * 0xffffffff) >>> 0, Math.min(j, size - 4));
    writeFileSync(join(root, 'data', `${name}-${i}.bin`), block);
  }
  const path = join(dir, `${name}.tar`);
  execFileSync('tar', ['--numeric-owner', '-C', root, '-cf', path, '.']);
  return path;
}
