// The builder plugin: docker build through POST /build with dockerd's classic builder (the one
// clients use when /_ping says Builder-Version: 1). A build is a job; its steps run in containers
// through the containers service's jobs and become images in the image store.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { definePlugin } from '../../core/plugin-api.js';
import type { ApiService } from '../api-server/index.js';
import type { ImagesService } from '../image-store/index.js';
import type { ContainersService } from '../container-store/index.js';
import type { SystemService } from '../api-system/index.js';
import { StepImages } from './build-cache.js';
import { Build, StepError } from './build.js';
import { buildOptionsSchema, type BuildOptions } from './options.js';
import { BuildOutput } from './output.js';
import { mountBuildRoutes } from './routes.js';
import { BUILD_LABEL } from './step-containers.js';

export type { BuildOptions } from './options.js';

export default definePlugin({
  init(ctx) {
    const images = ctx.services.get<ImagesService>('images');
    const api = ctx.services.get<ApiService>('api');
    const containers = ctx.services.get<ContainersService>('containers');
    const system = ctx.services.get<SystemService>('system');
    const tmpRoot = join(ctx.stateDir, 'tmp');
    const steps = StepImages.at(ctx.stateDir, ctx.fs, (id) => images.store().db.get(id) !== undefined);
    const stepsInFlight = new Map<string, Promise<unknown>>();
    const inUse = (imageId: string) => containers.store().all().some((c) => c.Image === imageId);

    ctx.engine.register<BuildOptions, string>('image.build', {
      description: 'builds an image from a Dockerfile and a context on stdin (docker build, classic builder)',
      schema: buildOptionsSchema,
      run: async (job) => {
        if (!job.stdin && !job.payload.remote) throw ctx.errors.invalid('docker build needs a build context (a tar archive) in the request body');
        const out = new BuildOutput(job.stdout, job.payload.quiet);
        const workDir = join(tmpRoot, String(job.id));
        await mkdir(workDir, { recursive: true, mode: 0o700 });
        const build = new Build({ engine: ctx.engine, images: () => images.store(), log: job.log, workDir, stepCommitted: (id) => steps.add([id]), stepsInFlight }, job.payload, out, job.signal);
        try {
          return await build.run(job.stdin);
        } catch (err) {
          // Once the stream began, the failure is its last message (a RUN's with its exit code).
          if (!out.written) throw err;
          out.error((err as Error).message, err instanceof StepError ? err.code : undefined);
          throw Object.assign(err as Error, { reported: true });
        } finally {
          await build.containers.removeAll();
          await rm(workDir, { recursive: true, force: true }).catch(() => {});
        }
      },
    });

    ctx.engine.register<{ all?: boolean; filters?: Record<string, string[]>; keepStorage?: number }, unknown>('build.prune', {
      description: 'removes build cache (docker builder prune)',
      schema: {
        type: 'object',
        properties: { all: { type: 'boolean' }, filters: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } }, keepStorage: { type: 'number' } },
      },
      run: (job) => steps.prune(images.store(), {
        filters: job.payload?.filters ?? {}, keepStorage: job.payload?.keepStorage ?? 0, inUse, emit: (ev) => job.emit(ev),
      }),
    });

    mountBuildRoutes(ctx, api);
    system.hooks.df.tap('builder', (usage) => ({ ...usage, BuildCache: steps.records(images.store(), inUse) }));

    // A build a killed daemon left: its step containers go, its scratch files too.
    ctx.hooks.ready.tapPromise({ name: 'remove-interrupted-builds', stage: 60 }, async () => {
      await steps.load();
      await rm(tmpRoot, { recursive: true, force: true }).catch(() => {});
      // Read from the store, not through the container.list job: its payload validator would load
      // ajv's compiler at every start (~100 ms of the event loop) to find, nearly always, nothing.
      const left = containers.store().all().filter((c) => c.Config.Labels?.[BUILD_LABEL] !== undefined).map((c) => ({ Id: c.Id }));
      for (const c of left) {
        await ctx.engine.run('container.delete', { name: c.Id, force: true, volumes: true })
          .catch((err) => ctx.log.warn({ err, container: c.Id }, 'cannot remove a container an interrupted build left'));
      }
      if (left.length) ctx.log.info({ containers: left.map((c) => c.Id) }, 'removed containers of builds the daemon was stopped in');
    });
  },
});

