// The images service's extension points, declared in one place. Other plugins tap them through
// the service (`images.hooks`); only the image store calls them.
import { SyncBailHook } from 'tapable';

export function createImageHooks() {
  return Object.freeze({
    /** Is the image in use? Return what uses it (a container's ID): it then cannot go without force. */
    inUse: new SyncBailHook<[string], string | undefined>(['imageId']),
    /**
     * Since 1.2. Does something besides images hold this layer (a container's read-write layer
     * sits on it)? Return what holds it: start-up then keeps it when no image owns it.
     */
    layerInUse: new SyncBailHook<[string], string | undefined>(['chainId']),
  });
}

export type ImageHooks = ReturnType<typeof createImageHooks>;
