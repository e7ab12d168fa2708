// docker commit, the image side: the container's changes become a layer on its image's layers,
// and a child image configuration records them, as dockerd's NewChildImage does.
import type { Readable } from 'node:stream';
import { notFound } from '../../core/plugin-api.js';
import type { ContainerConfig, HistoryEntry, ImageConfig } from './image-config.js';
import type { Emit, Images } from './images.js';

/** The diffID of an empty tar (1024 zero bytes): a commit without changes adds no layer. */
export const EMPTY_LAYER_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

export interface CommitRequest {
  /** The image the container was created from. */
  parentId: string;
  /** The container's changes as a layer tar (Docker whiteouts). */
  layer: Readable;
  config: ContainerConfig;
  containerConfig: ContainerConfig;
  containerId: string;
  author?: string;
  comment?: string;
  /** "repo" or "repo:tag", validated by the caller with Images.joinRepoTag. */
  ref?: string;
}

export async function commitImage(images: Images, req: CommitRequest, dockerVersion: string, emit: Emit): Promise<string> {
  const parent = images.db.get(req.parentId);
  if (!parent) throw notFound(`No such image: ${req.parentId}`);
  const top = parent.chain.at(-1) ?? null;
  // Provisional until the image is recorded: a crash in between leaves a layer start-up collects.
  const layer = await images.layers.register(req.layer, top, undefined, { provisional: true });
  const emptyLayer = layer.diffId === EMPTY_LAYER_DIFF_ID;
  const created = new Date().toISOString();
  const entry: HistoryEntry = {
    created,
    ...(req.author ? { author: req.author } : {}),
    created_by: (req.containerConfig.Cmd ?? []).join(' '),
    ...(req.comment ? { comment: req.comment } : {}),
    ...(emptyLayer ? { empty_layer: true } : {}),
  };
  const base = parent.config;
  const config: ImageConfig = {
    architecture: base.architecture,
    ...(req.author ? { author: req.author } : {}),
    // docker commit -m: the image's Comment (inspect), as well as its history entry's.
    ...(req.comment ? { comment: req.comment } : {}),
    config: req.config,
    container: req.containerId,
    container_config: req.containerConfig,
    created,
    docker_version: dockerVersion,
    history: [...(base.history ?? []), entry],
    os: base.os ?? 'linux',
    ...(base.variant ? { variant: base.variant } : {}),
    rootfs: { type: 'layers', diff_ids: [...base.rootfs.diff_ids, ...(emptyLayer ? [] : [layer.diffId])] },
  };
  const image = await images.db.create(Buffer.from(JSON.stringify(config)), parent.id);
  await images.layers.confirm(layer.chainId);
  // An empty layer is not part of the image: keep it only if another image has it.
  if (emptyLayer && !images.db.all().some((i) => i.chain.includes(layer.chainId))) await images.layers.remove(layer.chainId);
  if (req.ref) await images.tag(image.id, req.ref, emit);
  return image.id;
}
