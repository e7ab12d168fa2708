// The container jobs of this stage: create, inspect, list, rename, remove, prune.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { JobEvent, PluginContext } from '../../../core/plugin-api.js';
import type { Images } from '../../image-store/index.js';
import type { ContainerConfig } from '../../image-store/index.js';
import { familiarString, normalize } from '../../../lib/image-reference.js';
import { TurnCoalescer } from '../../../lib/turn-coalescer.js';
import { command, createdState, mergeConfig, type Container, type HostConfig } from './container.js';
import { validateHealthcheck } from '../health/index.js';
import { daemonLogConfig, resolveLogConfig, type LogConfig } from '../logs/index.js';
import { checkName, generateName } from './names.js';
import { adaptNamespaceModes, validateRestartPolicy } from '../lifecycle/index.js';
import type { RuntimesService } from '../../exec/index.js';
import { adaptCreateResources } from '../resources/index.js';
import type { ContainerRuntime } from '../lifecycle/index.js';
import type { ContainerStore } from './store.js';
import { containerSummary, filterContainers, inspectContainer } from './views.js';
import type { ContainerHooks, CreateRequest } from '../hooks.js';
import { createPayloadSchema, normalizeStrSlices } from './create-schema.js';

export interface CreatePayload {
  name?: string;
  config: ContainerConfig & { Image?: string; HostConfig?: HostConfig; NetworkingConfig?: unknown };
}

/** Filters as the API server parses them: each key a list of values. */
const filtersSchema = { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } };

export interface ContainerJobDeps {
  store: () => ContainerStore;
  images: () => Images;
  driverName: () => string;
  runtime: () => ContainerRuntime;
  hooks: ContainerHooks;
  /** The graph driver's description of a layer (inspect's GraphDriver.Data), null when it has none. */
  graphMetadata: (id: string) => Promise<Record<string, string> | null>;
  /** Removes a stopped container's layer and record, and tells the removed hook. */
  remove: (c: Container, emit: (ev: JobEvent) => void, lenient?: boolean, removeVolumes?: boolean) => Promise<void>;
}

export const containerEvent = (c: Container, action: string, extra: Record<string, string> = {}): JobEvent => ({
  Type: 'container', Action: action,
  Actor: { ID: c.Id, Attributes: { image: c.Config.Image, name: c.Name.slice(1), ...(c.Config.Labels ?? {}), ...extra } },
});

export function registerContainerJobs(ctx: PluginContext, deps: ContainerJobDeps): void {
  const { store, images, driverName, runtime, hooks } = deps;
  const e = ctx.engine;
  const event = containerEvent;

  e.register<CreatePayload, { Id: string; Warnings: string[] }>('container.create', {
    description: 'creates a container from an image (docker create)',
    schema: createPayloadSchema(),
    run: async (job) => {
      if (!job.payload.config || Object.keys(job.payload.config).length === 0) {
        throw ctx.errors.invalid('Config cannot be empty in order to create a container');
      }
      const body = normalizeStrSlices(job.payload.config);
      if (!body.Image) throw ctx.errors.invalid('Config cannot be empty in order to create a container');
      validateHealthcheck(body.Healthcheck);
      validateRestartPolicy(body.HostConfig);
      // As dockerd: the runtime is checked and recorded at create, the default one by its name.
      const runtimes = ctx.services.get<RuntimesService>('runtimes');
      const runtime = (body.HostConfig?.Runtime as string | undefined) || runtimes.defaultName();
      if (!runtimes.names().includes(runtime)) throw ctx.errors.invalid(`unknown or invalid runtime name: ${runtime}`);
      // PidMode/IpcMode checked and container:<name> recorded as the donor's ID, as dockerd.
      const hostConfig = adaptNamespaceModes(adaptCreateResources(body.HostConfig ?? {}), (ref) => store().find(ref));
      // Other plugins' checks (networks, ports) refuse a request before anything is made.
      await hooks.creating.promise(body as CreateRequest);
      const logConfig = resolveLogConfig(body.HostConfig?.LogConfig as Partial<LogConfig> | undefined, daemonLogConfig(ctx.config));
      const s = store();
      const id = randomBytes(32).toString('hex');
      const name = job.payload.name ? checkName(job.payload.name) : generateName((n) => s.nameTaken(n));
      const image = images().find(body.Image);
      if (!image) throw ctx.errors.notFound(`No such image: ${familiarString(normalize(body.Image))}`);
      s.reserveName(name, id);
      let record: Container;
      try {
        const { HostConfig: _host, NetworkingConfig: _net, ...requested } = body;
        const config = { ...mergeConfig(requested, image.config.config), Image: body.Image };
        if (!config.Entrypoint?.length && !config.Cmd?.length) throw ctx.errors.invalid('no command specified');
        // As dockerd's newContainer: the host's name with --network host, else the short ID.
        config.Hostname ||= hostConfig.NetworkMode === 'host' ? hostname() : id.slice(0, 12);
        const top = image.chain.length ? image.chain[image.chain.length - 1] : null;
        await images().layers.createRwLayer(id, top);
        const c: Container = {
          Id: id,
          Name: name,
          Created: new Date().toISOString(),
          ...command(config),
          Config: config,
          HostConfig: { NetworkMode: 'default', ...hostConfig, LogConfig: logConfig, Runtime: runtime },
          Image: image.id,
          ImageTopLayer: top,
          State: createdState(),
          RestartCount: 0,
          Driver: driverName(),
          Platform: 'linux',
          MountLabel: '', ProcessLabel: '', AppArmorProfile: '',
          ResolvConfPath: '', HostnamePath: '', HostsPath: '', LogPath: '',
        };
        try {
          await s.save(c);
        } catch (err) {
          await images().layers.removeRwLayer(id).catch(() => {});
          throw err;
        }
        record = c;
      } catch (err) {
        s.releaseName(name, id);
        throw err;
      }
      try {
        await hooks.created.promise(record, body as CreateRequest);
      } catch (err) {
        // What a tap could not follow is not left half made: the container goes again.
        await deps.remove(record, () => {}).catch((e) => ctx.log.warn({ err: e, container: id }, 'cannot undo a failed create'));
        throw err;
      }
      job.emit(event(record, 'create'));
      return { Id: id, Warnings: [] };
    },
  });

  // SizeRw: what the read-write layer holds; SizeRootFs: that plus the image (ps -s, inspect -s).
  const sizes = async (c: Container) => {
    const rw = await images().layers.rwLayerSize(c.Id, c.ImageTopLayer).catch(() => 0);
    const image = images().find(c.Image);
    return { SizeRw: rw, SizeRootFs: rw + (image ? images().size(image) : 0) };
  };

  e.register<{ name: string; size?: boolean }, unknown>('container.inspect', {
    description: 'a container in detail (docker inspect, -s for sizes)',
    schema: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 }, size: { type: 'boolean' } } },
    run: async (job) => {
      const c = store().get(job.payload.name);
      const view = inspectContainer(c, await deps.graphMetadata(c.Id).catch(() => null));
      return hooks.inspect.call({ ...view, ...(job.payload.size ? await sizes(c) : {}) }, c);
    },
  });

  // Lists asked for in the same turn, with the same payload, are made once (lib/turn-coalescer).
  const lists = new TurnCoalescer<unknown[]>();
  e.register<{ all?: boolean; limit?: number; size?: boolean; filters?: Record<string, string[]> }, unknown[]>('container.list', {
    description: 'lists containers (docker ps, -s for sizes)',
    schema: {
      type: 'object',
      properties: { all: { type: 'boolean' }, limit: { type: 'integer' }, size: { type: 'boolean' }, filters: filtersSchema },
    },
    run: (job) => lists.run(JSON.stringify(job.payload ?? {}), async () => {
      const p = job.payload ?? {};
      const s = store();
      const imageMatches = (c: Container, ref: string) => {
        const img = images().find(ref);
        return img ? img.id === c.Image : c.Config.Image === ref;
      };
      const filters = p.filters ?? {};
      let list = filterContainers(s.all(), filters, { all: Boolean(p.all), imageMatches, find: (r) => s.find(r) })
        .filter((c) => hooks.listFilter.call(c, filters) !== false);
      if (p.limit && p.limit > 0) list = list.slice(0, p.limit);
      const row = (c: Container) => hooks.summary.call(containerSummary(c, c.Config.Image), c);
      if (!p.size) return list.map(row);
      return Promise.all(list.map(async (c) => ({ ...row(c), ...(await sizes(c)) })));
    }),
  });

  e.register<{ name: string; newName: string }, void>('container.rename', {
    description: 'renames a container (docker rename)',
    schema: { type: 'object', required: ['name', 'newName'], properties: { name: { type: 'string', minLength: 1 }, newName: { type: 'string' } } },
    run: async (job) => runtime().locks.run(store().get(job.payload.name).Id, async () => {
      const s = store();
      // Under the container's lock, by its name now: a rename just before may have taken the old one.
      const c = s.get(job.payload.name);
      if (!job.payload.newName) throw ctx.errors.invalid('Neither old nor new names may be empty');
      const next = checkName(job.payload.newName);
      const old = c.Name;
      if (next === old) throw ctx.errors.invalid(`Renaming a container with the same name as its current name`);
      s.reserveName(next, c.Id);
      try {
        await s.save({ ...c, Name: next });
      } catch (err) {
        s.releaseName(next, c.Id);
        throw err;
      }
      s.releaseName(old, c.Id);
      await hooks.renamed.promise(s.get(c.Id), old);
      job.emit(event({ ...c, Name: next }, 'rename', { oldName: old }));
    }),
  });

  const removeContainer = deps.remove;

  e.register<{ name: string; force?: boolean; volumes?: boolean }, void>('container.delete', {
    description: 'removes a container (docker rm)',
    schema: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 }, force: { type: 'boolean' }, volumes: { type: 'boolean' } } },
    run: async (job) => {
      const c = store().get(job.payload.name);
      const rt = runtime();
      // As dockerd: one removal at a time; the others are told so (and, once it is gone, 404).
      if (!rt.locks.beginRemoval(c.Id)) throw ctx.errors.conflict(`removal of container ${c.Id} is already in progress`);
      try {
        if (c.State.Running || c.State.Paused) {
          if (!job.payload.force) {
            // dockerd 25+ (API 1.44): whatever else runs in its namespaces (a pod's app containers).
            throw ctx.errors.conflict(c.State.Paused
              ? `cannot remove container ${JSON.stringify(c.Name)}: container is paused and must be unpaused first`
              : `cannot remove container ${JSON.stringify(c.Name)}: container is ${c.State.Restarting ? 'restarting' : 'running'}: stop the container before removing or force remove`);
          }
          const stopped = rt.wait(c, 'not-running', job.signal);
          // It may have stopped on its own meanwhile: then there is nothing to kill.
          await rt.kill(c, 'SIGKILL', (ev) => job.emit(ev)).catch((err) => {
            if (store().find(c.Id)?.State.Running) throw err;
          });
          await stopped;
        }
        // An exit still being recorded holds the container's mount: rm waits for it, as dockerd's lock does.
        await rt.cleanedUp(c.Id);
        await rt.locks.run(c.Id, async () => {
          const now = store().get(c.Id);
          if (now.State.Running) throw ctx.errors.conflict(`cannot remove container ${JSON.stringify(now.Name)}: container is running: stop the container before removing or force remove`);
          await removeContainer(now, (ev) => job.emit(ev), false, Boolean(job.payload.volumes));
        });
      } finally {
        rt.locks.endRemoval(c.Id);
      }
      rt.notify(c.Id, c.State.ExitCode, ['removed']);
    },
  });

  e.register<{ filters?: Record<string, string[]> }, { ContainersDeleted: string[] | null; SpaceReclaimed: number }>('container.prune', {
    description: 'removes stopped containers (docker container prune)',
    schema: { type: 'object', properties: { filters: filtersSchema } },
    run: async (job) => {
      const labels = job.payload?.filters?.label ?? [];
      const deleted: string[] = [];
      let reclaimed = 0;
      for (const c of store().all()) {
        if (c.State.Running || c.State.Paused) continue;
        const l = c.Config.Labels ?? {};
        if (!labels.every((x) => (x.includes('=') ? l[x.split('=')[0]] === x.slice(x.indexOf('=') + 1) : x in l))) continue;
        await runtime().cleanedUp(c.Id);
        // As dockerd: what the read-write layer held, measured before it goes.
        const size = await images().layers.rwLayerSize(c.Id, c.ImageTopLayer).catch(() => 0);
        await removeContainer(c, (ev) => job.emit(ev));
        deleted.push(c.Id);
        reclaimed += size;
      }
      if (deleted.length) job.emit({ Type: 'container', Action: 'prune', Actor: { ID: '', Attributes: { reclaimed: String(reclaimed) } } });
      return { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
    },
  });
}
