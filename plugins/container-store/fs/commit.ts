// docker commit, the container side: the new image's config (the request's or the container's,
// with Dockerfile-style changes, completed from the container's as dockerd merges them), and the
// container's own changes packed while it is paused.
import type { Readable } from 'node:stream';
import { conflict, type JobEvent } from '../../../core/plugin-api.js';
import { changeEntries, containerChanges } from './layer-changes.js';
import { packChanges } from '../../../lib/archive/index.js';
import type { GraphDriver } from '../../graph/index.js';
import { commitImage } from '../../image-store/index.js';
import { applyChanges, type ContainerConfig } from '../../image-store/index.js';
import { Images } from '../../image-store/index.js';
import { familiarString, normalize } from '../../../lib/image-reference.js';
import type { Container } from '../records/index.js';
import type { ContainerFs } from './container-fs.js';
import type { ContainerRuntime } from '../lifecycle/index.js';

export interface CommitPayload {
  name: string;
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  /** Pause a running container while its changes are read (default true, as dockerd). */
  pause?: boolean;
  /** Dockerfile instructions applied to the config (docker commit -c). */
  changes?: string[];
  /** The request body: a container config for the image; the container's own when absent. */
  config?: ContainerConfig | null;
  /**
   * A build step (dockerd's CommitBuildStep): `config` is the image's as given, not merged with the
   * container's, and this is the image's container_config (the builder's cache key); no event.
   */
  buildStep?: {
    containerConfig: ContainerConfig;
    /**
     * The job's stdin is a tar whose entries the layer gets after the container's changes, as if
     * extracted into it last (a COPY's files: their folders are in the container already, so the
     * changes carry them as the container has them; the files are written once, into the layer).
     */
    append?: boolean;
  };
}

export interface CommitDeps {
  images: Images;
  graph: GraphDriver;
  fs: ContainerFs;
  runtime: ContainerRuntime;
  dockerVersion: string;
}

const envKey = (e: string) => e.split('=')[0];

/** dockerd's merge(userConf, imageConf): what the new config leaves empty comes from the container's. */
export function mergeCommitConfig(user: ContainerConfig, from: ContainerConfig): ContainerConfig {
  const out: ContainerConfig = { ...user };
  if (!out.User) out.User = from.User;
  if (!out.ExposedPorts || Object.keys(out.ExposedPorts).length === 0) out.ExposedPorts = from.ExposedPorts;
  else out.ExposedPorts = { ...(from.ExposedPorts ?? {}), ...out.ExposedPorts };
  if (!out.Env?.length) out.Env = from.Env;
  else {
    const given = new Set(out.Env.map(envKey));
    out.Env = [...out.Env, ...(from.Env ?? []).filter((e) => !given.has(envKey(e)))];
  }
  out.Labels = { ...(from.Labels ?? {}), ...(out.Labels ?? {}) };
  if (!out.Entrypoint?.length) {
    if (!out.Cmd?.length) out.Cmd = from.Cmd;
    if (out.Entrypoint === undefined || out.Entrypoint === null) out.Entrypoint = from.Entrypoint;
  }
  if (!out.WorkingDir) out.WorkingDir = from.WorkingDir;
  if (!out.Volumes || Object.keys(out.Volumes).length === 0) out.Volumes = from.Volumes;
  else out.Volumes = { ...out.Volumes, ...from.Volumes };
  if (!out.StopSignal) out.StopSignal = from.StopSignal;
  return out;
}

export async function commitContainer(deps: CommitDeps, c: Container, p: CommitPayload, emit: (e: JobEvent) => void, append?: Readable): Promise<string> {
  const ref = p.repo ? Images.joinRepoTag(p.repo, p.tag) : undefined;
  if (c.State.Dead) throw conflict(`You cannot commit container ${c.Id} which is Dead`);
  const start = structuredClone(p.config ?? c.Config);
  const config = p.buildStep ? start : mergeCommitConfig(applyChanges(start, p.changes ?? []), c.Config);
  const pausedHere = p.pause !== false && c.State.Running && !c.State.Paused;
  if (pausedHere) await deps.runtime.pause(c, emit);
  let id: string;
  try {
    const parent = c.ImageTopLayer ? deps.images.layers.get(c.ImageTopLayer)?.cacheId ?? null : null;
    id = await deps.fs.use(c, async (h) => {
      const changes = containerChanges(await deps.graph.changes(c.Id, parent));
      return commitImage(deps.images, {
        parentId: c.Image,
        layer: packChanges(h.root, changeEntries(changes), append),
        config,
        containerConfig: p.buildStep?.containerConfig ?? c.Config,
        containerId: c.Id,
        ...(p.author ? { author: p.author } : {}),
        ...(p.comment ? { comment: p.comment } : {}),
        ...(ref ? { ref } : {}),
      }, deps.dockerVersion, emit);
    });
  } finally {
    if (pausedHere) await deps.runtime.unpause(c, emit).catch(() => {});
  }
  if (!p.buildStep) emit(deps.runtime.event(c, 'commit', { comment: p.comment ?? '', imageID: id, imageRef: ref ? familiarString(normalize(ref)) : '' }));
  return id;
}
