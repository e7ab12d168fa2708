// The volumes service's part in containers' lives, through the containers service's hooks: the
// mounts of a container are parsed and checked at create (one parser for every flag), its volumes
// made and filled (copy-up), mounted when it starts and released when it stops; inspect and ps
// show them; docker rm -v removes its anonymous volumes.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { invalid } from '../../core/plugin-api.js';
import type { Container, ContainersService, CreateRequest } from '../container-store/index.js';
import type { GraphService } from '../graph/index.js';
import { isMissing } from '../../lib/host-cmd.js';
import { copyUp } from './copy-up.js';
import { containerMounts, type MountPoint, type MountRequest } from './mount-spec.js';
import { ANONYMOUS_LABEL } from './names.js';
import { volumeEvent, type Volumes } from './service.js';

/** SELinux labels can only be honoured as "nothing to relabel" on a host without SELinux. */
const selinuxEnabled = () => existsSync('/sys/fs/selinux/enforce') && readFileSync('/sys/fs/selinux/enforce', 'utf8').trim() === '1';

/** What docker inspect and docker ps show of a mount point. */
export function mountView(m: MountPoint): Record<string, unknown> {
  return {
    Type: m.Type, ...(m.Type === 'volume' ? { Name: m.Name } : {}), Source: m.Source, Destination: m.Destination,
    ...(m.Type === 'volume' ? { Driver: m.Driver } : {}), Mode: m.Mode, RW: m.RW, Propagation: m.Propagation,
  };
}

const mountRequest = (body: CreateRequest, volumes: Record<string, unknown> | null | undefined): MountRequest => ({
  ...(body.HostConfig ?? {}) as MountRequest, Volumes: volumes,
});

/** Taps the hooks; returns what to run once the containers were restored at daemon start. */
export function tapContainerMounts(containers: ContainersService, volumes: Volumes, graph: GraphService, log: Logger): { restore: () => Promise<void> } {
  const { hooks } = containers;
  const store = volumes.store;
  const mountsOf = (ref: string) => store.mounts.get(containers.store().get(ref).Id) ?? [];
  /** The volumes each container holds mounted for its current run. */
  const mounted = new Map<string, Set<string>>();

  hooks.creating.tapPromise('volumes', async (body) => {
    const mounts = containerMounts(mountRequest(body, body.Volumes as Record<string, unknown> | undefined), mountsOf, selinuxEnabled);
    // As dockerd: a --mount bind source must exist (a -v one is made at start).
    for (const m of mounts) {
      if (m.Type !== 'bind' || m.CreateSource) continue;
      await stat(m.Source).catch((err) => {
        throw isMissing(err) ? invalid(`invalid mount config for type "bind": bind source path does not exist: ${m.Source}`) : err;
      });
    }
  });

  hooks.created.tapPromise('volumes', async (c, body) => {
    const mounts = containerMounts(mountRequest(body, c.Config.Volumes as Record<string, unknown> | undefined), mountsOf, selinuxEnabled);
    // Most containers have no mount: nothing to write for them.
    if (!mounts.length) return;
    const made: string[] = [];
    try {
      for (const m of mounts) {
        if (m.Type !== 'volume') continue;
        const { record, made: isNew } = await volumes.create({ Name: m.Name, Driver: m.Driver, DriverOpts: m.DriverOpts, Labels: m.Labels }, c.Id);
        if (isNew) made.push(record.Name);
        Object.assign(m, { Name: record.Name, Driver: record.Driver });
        const driver = await volumes.driver(record.Driver);
        m.Source = (await driver.path(record.Name)) || (await driver.get(record.Name))?.mountpoint || '';
        if (!m.NoCopy) await populate(c, m);
      }
      // docker cp before the first start reads and writes through these too. Both files are
      // written side by side: the create waits for one fsync, not two.
      c.MountPoints = mounts.filter((m) => m.Type !== 'tmpfs' && m.Source).map((m) => ({ source: m.Source, destination: m.Destination, readonly: !m.RW }));
      await Promise.all([store.saveMounts(c.Id, mounts), containers.store().save(c)]);
      store.release(c.Id);
    } catch (err) {
      store.release(c.Id);
      for (const name of made) await volumes.remove(name).catch((e) => log.warn({ err: e, volume: name }, 'cannot undo a volume of a failed create'));
      await store.deleteMounts(c.Id).catch(() => {});
      throw err;
    }
  });

  // The image's folder at the mount point, copied into the volume while the volume is empty. Images
  // do not change: that an image has no folder at a path is remembered, so a later container of it
  // mounts neither its root file system nor the volume for nothing.
  const noFolder = new Set<string>();
  async function populate(c: Container, m: MountPoint): Promise<void> {
    const key = `${c.Image}\0${m.Destination}`;
    if (noFolder.has(key)) return;
    const driver = await volumes.driver(m.Driver!);
    const ref = `copy-up-${c.Id}`;
    const path = await driver.mount(m.Name!, ref);
    try {
      if ((await readdir(path)).length) return;
      const rootfs = await graph.driver().get(c.Id);
      try {
        const copied = await copyUp(rootfs, m.Destination, path);
        if (copied === 'no-folder') {
          if (noFolder.size >= 4096) noFolder.clear();
          noFolder.add(key);
        }
      } finally {
        await graph.driver().put(c.Id);
      }
    } finally {
      await driver.unmount(m.Name!, ref);
    }
  }

  hooks.starting.tapPromise('volumes', async ({ container: c, spec }) => {
    const held = new Set<string>();
    mounted.set(c.Id, held);
    for (const m of store.mounts.get(c.Id) ?? []) {
      if (m.Type === 'tmpfs') {
        spec.mounts.push({ destination: m.Destination, type: 'tmpfs', source: 'tmpfs', options: m.TmpfsOptions ?? [], readonly: !m.RW });
        continue;
      }
      let source = m.Source;
      if (m.Type === 'volume') {
        const driver = await volumes.driver(m.Driver!);
        source = await driver.mount(m.Name!, c.Id);
        held.add(m.Name!);
        volumes.emit(volumeEvent(m.Name!, 'mount', {
          container: c.Id, destination: m.Destination, driver: m.Driver!, propagation: m.Propagation, 'read/write': String(m.RW),
        }));
      } else if (m.CreateSource) {
        // As dockerd: a -v bind's missing host path is made (a folder, 0755).
        await mkdir(source, { recursive: true, mode: 0o755 });
      }
      spec.mounts.push({ destination: m.Destination, type: 'bind', source, readonly: !m.RW, ...(m.Propagation ? { propagation: m.Propagation } : {}) });
    }
  });

  hooks.stopped.tapPromise('volumes', async (c) => {
    const held = mounted.get(c.Id);
    mounted.delete(c.Id);
    for (const m of store.mounts.get(c.Id) ?? []) {
      // After a daemon restart nothing is known to be held: every volume is released (a driver
      // forgives a release it never gave).
      if (m.Type !== 'volume' || (held && !held.has(m.Name!))) continue;
      try {
        await (await volumes.driver(m.Driver!)).unmount(m.Name!, c.Id);
        volumes.emit(volumeEvent(m.Name!, 'unmount', { container: c.Id, driver: m.Driver! }));
      } catch (err) {
        log.warn({ err, volume: m.Name, container: c.Id }, 'cannot unmount volume');
      }
    }
  });

  hooks.removed.tapPromise('volumes', async (c, context) => {
    const mounts = store.mounts.get(c.Id) ?? [];
    await store.deleteMounts(c.Id);
    if (!context?.removeVolumes) return;
    // docker rm -v (and --rm): the container's anonymous volumes that nothing else uses.
    for (const m of mounts) {
      if (m.Type !== 'volume' || !m.Name) continue;
      const v = store.volumes.get(m.Name);
      if (!v || !(ANONYMOUS_LABEL in v.Labels)) continue;
      await volumes.remove(m.Name).catch((err) => log.warn({ err, volume: m.Name }, 'cannot remove the container\'s anonymous volume'));
    }
  });

  const shown = (c: Container) => (store.mounts.get(c.Id) ?? []).filter((m) => !m.Hidden).map(mountView);
  hooks.inspect.tap('volumes', (view, c) => ({ ...view, Mounts: shown(c) }));
  hooks.summary.tap('volumes', (row, c) => ({ ...row, Mounts: shown(c) }));
  // ps --filter volume=: a volume's name (a bind's source) or a mount's destination.
  hooks.listFilter.tap('volumes', (c, filters) => {
    if (!filters.volume?.length) return undefined;
    const mounts = store.mounts.get(c.Id) ?? [];
    const hit = filters.volume.some((v) => mounts.some((m) => m.Destination === v || (m.Type === 'volume' ? m.Name === v : m.Source === v)));
    return hit ? undefined : false;
  });

  // After the containers were restored: running ones hold their volumes again (a tmpfs volume
  // stays mounted for them); the mount points of containers gone meanwhile are dropped.
  return {
    restore: async () => {
      const alive = new Set(containers.store().all().map((x) => x.Id));
      for (const id of [...store.mounts.keys()]) if (!alive.has(id)) await store.deleteMounts(id).catch(() => {});
      for (const c of containers.store().all().filter((x) => x.State.Running)) {
        const held = new Set<string>();
        for (const m of store.mounts.get(c.Id) ?? []) {
          if (m.Type !== 'volume') continue;
          await (await volumes.driver(m.Driver!)).mount(m.Name!, c.Id).then(() => held.add(m.Name!))
            .catch((err) => log.warn({ err, volume: m.Name, container: c.Id }, 'cannot mount the volume of a restored container'));
        }
        mounted.set(c.Id, held);
      }
    },
  };
}
