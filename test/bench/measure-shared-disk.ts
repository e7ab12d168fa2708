// Disk used by ten images sharing one ~20 MB base layer, each adding a ~100 KB layer: Berth
// only, once per graph driver. overlay stores the base once; vfs copies it into every layer.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PartialFailure, type Benchmark, type Figures } from './benchmark.js';
import { scratchDir, withArgs, withDaemon, type DaemonSpec } from './daemons.js';
import { writeShareArchive, type Archive } from './docker-archive.js';
import { loadArchive } from './image-load.js';

let archive: Archive | undefined;
function shareArchiveFile(): Archive {
  archive ??= writeShareArchive(scratchDir('share-archive'));
  return archive;
}

/** Real blocks used under dir (du -sk, nothing excluded), in KiB. */
function diskKiB(dir: string): number {
  const r = spawnSync('du', ['-sk', dir], { encoding: 'utf8', timeout: 60_000 });
  const kib = Number(/^(\d+)/.exec(r.stdout ?? '')?.[1]);
  if (r.status !== 0 || !Number.isFinite(kib)) throw new Error(`du -sk ${dir} failed: ${r.error?.message ?? r.stderr}`);
  return kib;
}

async function diskAfterLoad(spec: DaemonSpec, driver: string): Promise<number> {
  const a = shareArchiveFile();
  return withDaemon(withArgs(spec, `${spec.label} ${driver}`, '--storage-driver', driver), async (d) => {
    await loadArchive(d, a);
    return diskKiB(join(d.dir, 'data')) / 1024;
  });
}

export const sharedDisk: Benchmark = {
  name: 'shared-disk',
  metrics: ['shareOverlayMiB', 'shareVfsMiB', 'shareVfsOverOverlay'],
  only: ['berth'],
  async run(spec) {
    // One driver failing must not hide the other's figure.
    const figures: Figures = {};
    const errors: string[] = [];
    for (const [driver, key] of [['overlay', 'shareOverlayMiB'], ['vfs', 'shareVfsMiB']] as const) {
      try {
        figures[key] = await diskAfterLoad(spec, driver);
      } catch (err) {
        errors.push(`--storage-driver ${driver}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (figures.shareOverlayMiB && figures.shareVfsMiB) figures.shareVfsOverOverlay = figures.shareVfsMiB / figures.shareOverlayMiB;
    // First line: every driver's error, as the report shows only that line (and the last one).
    if (errors.length) throw new PartialFailure([errors.map((e) => e.split('\n')[0]).join('; '), ...errors].join('\n'), figures);
    return figures;
  },
};
