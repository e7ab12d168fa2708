// The image store plugin: layers and images on the selected graph driver, and the image jobs.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { definePlugin } from '../../core/plugin-api.js';
import { closeUnpackWorkers } from '../../lib/archive/index.js';
import type { GraphService } from '../graph/index.js';
import { addWarnings, type SystemService } from '../api-system/index.js';
import { ImageDb, isTempFile } from './image-db.js';
import { Images } from './images.js';
import { registerImageJobs } from './jobs.js';
import { LayerStore } from './layer-store.js';
import { ReferenceStore } from './reference-store.js';
import { imageSummary } from './views.js';
import { createImageHooks, type ImageHooks } from './hooks.js';

export type { Image } from './image-db.js';
export { Images, type Emit } from './images.js';
export { type ContainerConfig, type HealthConfig, applyChanges, goArch } from './image-config.js';
export { type ChainItem } from './layer-store.js';
export { IMAGE_LIST_FILTERS } from './views.js';
export { commitImage } from './commit-image.js';
export type { ImageHooks } from './hooks.js';

/** The `images` service (interface version 1.2.0: hooks since 1.1, layerInUse since 1.2). */
export interface ImagesService {
  serviceVersion: string;
  /** The store; available from the ready hook on. */
  store(): Images;
  /** Tap these (inUse); never call them. */
  hooks: ImageHooks;
}

export default definePlugin({
  init(ctx) {
    const graph = ctx.services.get<GraphService>('graph');
    const system = ctx.services.get<SystemService>('system');
    let images: Images | undefined;
    let root = '';
    const store = () => {
      if (!images) throw ctx.errors.unavailable('the image store is not ready yet');
      return images;
    };
    const hooks = createImageHooks();
    ctx.services.provide<ImagesService>('images', { serviceVersion: '1.2.0', store, hooks });

    // Runs after the graph plugin selected its driver (its tap has an earlier stage).
    ctx.hooks.ready.tapPromise('restore-images', async () => {
      const driver = graph.driver();
      root = join(ctx.daemon.dataRoot, 'image', driver.name);
      const layers = new LayerStore(driver, join(root, 'layerdb'), ctx.log, ctx.fs);
      await layers.load();
      const db = new ImageDb(join(root, 'imagedb'), layers, ctx.log, ctx.fs);
      await db.load();
      const refs = new ReferenceStore(join(root, 'repositories.json'), ctx.fs);
      await refs.load();
      // Archives spooled by a load that a crash interrupted, temp files of interrupted writes.
      await rm(join(root, 'load-tmp'), { recursive: true, force: true });
      for (const f of await readdir(root)) if (isTempFile(f)) await rm(join(root, f), { force: true });
      images = new Images(layers, db, refs, hooks);
      ctx.log.info({ images: db.all().length, layers: layers.all().length }, 'image store restored');
    });

    // After the other stores restored theirs (containers hold layers too) and before the API
    // serves requests: layers a crash left without their image go. Not while some image or layer
    // could not be read: what it owns is unknown then.
    ctx.hooks.ready.tapPromise({ name: 'collect-orphan-layers', stage: 50 }, async () => {
      if (!images) return;
      if (images.db.unusable.length || images.layers.unreadable.length) {
        ctx.log.warn({ images: images.db.unusable.length, layers: images.layers.unreadable.length }, 'unreadable images or layers: orphan layers are not collected at this start');
        return;
      }
      const removed = await images.collectOrphanLayers();
      if (removed.length) ctx.log.info({ layers: removed }, 'removed layers no image owns (left by an interrupted commit, pull or load)');
    });

    // Idle unpacking workers end with the daemon (a busy one ends with its layer).
    ctx.hooks.shutdown.tapPromise('unpack-workers', () => closeUnpackWorkers());

    registerImageJobs(ctx, store, () => graph.driver().name, () => join(root, 'load-tmp'));

    system.hooks.info.tapPromise('images', async (info) => {
      if (!images) return info;
      const driver = graph.driver();
      info = addWarnings(info, [
        ...images.db.unusable.map((u) => `WARNING: image ${u.image} could not be loaded: ${u.reason}`),
        ...images.layers.unreadable.map((u) => `WARNING: layer ${u.layer} could not be loaded: ${u.reason}`),
      ]);
      return { ...info, Images: images.db.all().length, Driver: driver.name, DriverStatus: await driver.status() };
    });
    system.hooks.df.tap('images', (usage) => {
      if (!images) return usage;
      const i = images;
      const layersSize = i.layers.all().reduce((n, l) => n + l.size, 0);
      const users = new Map<string, number>();
      for (const img of i.db.all()) for (const c of img.chain) users.set(c, (users.get(c) ?? 0) + 1);
      const summaries = i.db.all().map((img) => ({
        ...imageSummary(i, img),
        Containers: 0,
        SharedSize: img.chain.filter((c) => (users.get(c) ?? 0) > 1).reduce((n, c) => n + (i.layers.get(c)?.size ?? 0), 0),
      }));
      return { ...usage, LayersSize: layersSize, Images: summaries };
    });
  },
});
