// The volumes service's contract: the volume-driver interface and the service's hooks.
// Placeholder on branch volplugins (the volumes branch brings the service itself): it provides
// `volumes` with only its hooks, so plugins that extend volumes load and can be tested.
import { definePlugin } from '../../core/plugin-api.js';
import { createVolumeHooks, type VolumeHooks } from './hooks.js';

export * from './driver.js';
export type { VolumeHooks } from './hooks.js';

export interface VolumesService {
  hooks: VolumeHooks;
}

export default definePlugin({
  init(ctx) {
    const service: VolumesService = { hooks: createVolumeHooks() };
    ctx.services.provide('volumes', service);
  },
});
