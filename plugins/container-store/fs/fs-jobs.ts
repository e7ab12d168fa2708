// The jobs on a container's files: docker cp (stat, archive, extract), docker diff, docker
// export and docker commit. Each holds the container's file system open (container-fs.ts) only
// for as long as it works in it.
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Job, PluginContext } from '../../../core/plugin-api.js';
import type { GraphService } from '../../graph/index.js';
import type { Images } from '../../image-store/index.js';
import { archivePath, exportRoot, extractToDir, statPath } from './archive-path.js';
import { commitContainer, type CommitPayload } from './commit.js';
import type { Container } from '../records/index.js';
import type { ContainerFs, ContainerFsHandle } from './container-fs.js';
import { changesView, containerChanges } from './layer-changes.js';
import type { ContainerRuntime } from '../lifecycle/index.js';
import type { PathStat } from './path-stat.js';
import type { ContainerStore } from '../records/index.js';

const named = (extra: Record<string, unknown> = {}) => ({
  type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 }, ...extra },
});
const withPath = named({ path: { type: 'string' } });

export interface FsJobDeps {
  store: () => ContainerStore;
  images: () => Images;
  graph: GraphService;
  fs: ContainerFs;
  runtime: () => ContainerRuntime;
}

export function registerFsJobs(ctx: PluginContext, deps: FsJobDeps): void {
  const e = ctx.engine;
  const { store, fs } = deps;

  /**
   * Opens a container's file system, packs a tar from it and streams it as the job's output; the
   * file system is released when the stream ends or the client leaves, at once if packing fails.
   */
  const streamPacked = async (c: Container, job: Job<unknown, unknown>, pack: (h: ContainerFsHandle) => Promise<Readable>) => {
    const h = await fs.open(c);
    let tar: Readable;
    try {
      tar = await pack(h);
    } catch (err) {
      await h.release();
      throw err;
    }
    job.begin();
    try {
      await pipeline(tar, job.stdout, { end: false, signal: job.signal });
    } finally {
      tar.destroy();
      await h.release();
    }
  };

  e.register<{ name: string; path: string }, PathStat>('container.archive-stat', {
    description: 'the status of a path in a container (HEAD /containers/{id}/archive, docker cp)',
    schema: withPath,
    run: async (job) => {
      const c = store().get(job.payload.name);
      return fs.use(c, async (h) => (await statPath(h, job.payload.path, job.payload.name)).stat);
    },
  });

  e.register<{ name: string; path: string; onStat?: (stat: PathStat) => void }, void>('container.archive', {
    description: 'a tar of a path in a container on stdout (docker cp out of a container)',
    // onStat is a function (the route sets the stat header before the tar): JSON Schema cannot type it.
    schema: named({ path: { type: 'string' }, onStat: {} }),
    run: async (job) => {
      const c = store().get(job.payload.name);
      await streamPacked(c, job, async (h) => {
        const packed = await archivePath(h, job.payload.path, job.payload.name);
        job.payload.onStat?.(packed.stat);
        return packed.tar;
      });
      job.emit(deps.runtime().event(c, 'archive-path'));
    },
  });

  e.register<{ name: string; path: string; copyUIDGID?: boolean; noOverwriteDirNonDir?: boolean }, void>('container.extract', {
    description: 'unpacks a tar from stdin into a folder of a container (docker cp into a container)',
    schema: named({ path: { type: 'string' }, copyUIDGID: { type: 'boolean' }, noOverwriteDirNonDir: { type: 'boolean' } }),
    run: async (job) => {
      const p = job.payload;
      if (!job.stdin) throw ctx.errors.invalid('docker cp into a container needs a tar archive in the request body');
      const c = store().get(p.name);
      await fs.use(c, (h) => extractToDir(h, c, {
        path: p.path, ref: p.name, tar: job.stdin!, copyUIDGID: Boolean(p.copyUIDGID), noOverwriteDirNonDir: Boolean(p.noOverwriteDirNonDir),
      }));
      job.emit(deps.runtime().event(c, 'extract-to-dir'));
    },
  });

  e.register<{ name: string }, { Path: string; Kind: number }[]>('container.changes', {
    description: 'what a container changed in its image\'s file system (docker diff)',
    schema: named(),
    run: async (job) => {
      const c = store().get(job.payload.name);
      const parent = c.ImageTopLayer ? deps.images().layers.get(c.ImageTopLayer)?.cacheId ?? null : null;
      // Open (and frozen) while read: a running container could otherwise change it under the walk.
      const changes = await fs.use(c, () => deps.graph.driver().changes(c.Id, parent));
      return changesView(containerChanges(changes));
    },
  });

  e.register<{ name: string }, void>('container.export', {
    description: 'a tar of a container\'s whole file system on stdout (docker export)',
    schema: named(),
    run: async (job) => {
      const c = store().get(job.payload.name);
      await streamPacked(c, job, exportRoot);
      job.emit(deps.runtime().event(c, 'export'));
    },
  });

  e.register<CommitPayload, { Id: string }>('container.commit', {
    description: 'makes an image of a container\'s changes (docker commit)',
    schema: named({
      repo: { type: 'string' }, tag: { type: 'string' }, comment: { type: 'string' }, author: { type: 'string' },
      pause: { type: 'boolean' }, changes: { type: 'array', items: { type: 'string' } }, config: { type: ['object', 'null'] },
      buildStep: { type: 'object', required: ['containerConfig'], properties: { containerConfig: { type: 'object' }, append: { type: 'boolean' } } },
    }),
    run: async (job) => {
      const c = store().get(job.payload.name);
      const append = job.payload.buildStep?.append ? job.stdin : undefined;
      if (job.payload.buildStep?.append && !append) throw ctx.errors.invalid('container.commit: buildStep.append: the job needs a tar on stdin');
      const id = await commitContainer({
        images: deps.images(), graph: deps.graph.driver(), fs, runtime: deps.runtime(), dockerVersion: ctx.daemon.version,
      }, c, job.payload, (ev) => job.emit(ev), append);
      return { Id: id };
    },
  });
}
