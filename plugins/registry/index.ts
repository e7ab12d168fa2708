// The registry plugin: pull, push, login and search against OCI distribution registries.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { definePlugin } from '../../core/plugins/context.js';
import type { ApiService } from '../api-server/index.js';
import type { SystemService } from '../api-system/index.js';
import type { ImagesService } from '../image-store/index.js';
import { registerRegistryJobs } from './jobs.js';
import { LayerDigests } from './layer-digests.js';
import { registryInfo } from './registry-info.js';
import { Registries, type RegistryConfig } from './registries.js';
import { mountRegistryRoutes } from './routes.js';

/** The `registry` service (interface version 1.0.0). */
export interface RegistryService {
  serviceVersion: string;
  registries(): Registries;
}

export default definePlugin({
  async init(ctx) {
    const images = ctx.services.get<ImagesService>('images');
    const tmp = join(ctx.stateDir, 'tmp');
    // Blobs a crash left half downloaded: never reused, the next pull starts them over.
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true, mode: 0o700 });
    const digests = new LayerDigests(join(ctx.stateDir, 'layer-digests.json'), ctx.fs);
    await digests.load();
    const reg = new Registries(ctx.config as unknown as RegistryConfig, digests, tmp, ctx.log);
    ctx.services.provide<RegistryService>('registry', { serviceVersion: '1.0.0', registries: () => reg });
    registerRegistryJobs(ctx, reg, () => images.store());
    mountRegistryRoutes(ctx, ctx.services.get<ApiService>('api'));
    ctx.services.get<SystemService>('system').hooks.info.tap('registry', (info) => ({ ...info, RegistryConfig: registryInfo(reg.config) }));
  },
});
