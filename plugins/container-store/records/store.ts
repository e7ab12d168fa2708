// Containers on disk: <data-root>/containers/<id>/config.v2.json, written atomically and read
// back at start. Names are reserved synchronously, so two concurrent creates cannot share one.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { conflict, notFound, type PluginFs } from '../../../core/plugin-api.js';
import type { Container } from './container.js';

/**
 * Records written before request bodies were checked may hold what dockerd's types cannot
 * (a numeric label, Cmd as a string): read as dockerd would show them, so one such record
 * does not break every list (docker ps -a, system df).
 */
function tolerate(c: Container): Container {
  const cfg = c.Config as Record<string, any> | undefined;
  if (!cfg) return c;
  if (cfg.Labels && typeof cfg.Labels === 'object') {
    cfg.Labels = Object.fromEntries(Object.entries(cfg.Labels).map(([k, v]) => [k, typeof v === 'string' ? v : v === null ? '' : JSON.stringify(v)]));
  } else if (cfg.Labels !== undefined) cfg.Labels = {};
  for (const key of ['Cmd', 'Entrypoint', 'Env']) {
    if (typeof cfg[key] === 'string') cfg[key] = [cfg[key]];
    else if (Array.isArray(cfg[key])) cfg[key] = cfg[key].map((v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v)));
    else if (cfg[key] !== null && cfg[key] !== undefined) cfg[key] = null;
  }
  if (typeof c.Path !== 'string') c.Path = String(c.Path ?? '');
  if (!Array.isArray(c.Args)) c.Args = [];
  c.Args = c.Args.map((v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v)));
  return c;
}

export class ContainerStore {
  private readonly byId = new Map<string, Container>();
  /** name → id, reservations included. */
  private readonly names = new Map<string, string>();
  private readonly writing = new Map<string, Promise<void>>();

  constructor(readonly root: string, private readonly log: Logger, private readonly fs: PluginFs) {}

  async load(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    for (const id of await readdir(this.root)) {
      if (!/^[a-f0-9]{64}$/.test(id)) continue;
      try {
        const c = tolerate(JSON.parse(await readFile(join(this.root, id, 'config.v2.json'), 'utf8')) as Container);
        this.byId.set(c.Id, c);
        this.names.set(c.Name, c.Id);
      } catch (err) {
        // A folder without a complete record is a create that a crash interrupted.
        this.log.warn({ err: (err as Error).message, container: id }, 'removing an incomplete container record');
        await rm(join(this.root, id), { recursive: true, force: true });
      }
    }
  }

  dir(id: string): string {
    return join(this.root, id);
  }

  /** Takes a name for `id`, or throws dockerd's 409. */
  reserveName(name: string, id: string): void {
    const holder = this.names.get(name);
    if (holder && holder !== id) {
      throw conflict(`Conflict. The container name "${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    this.names.set(name, id);
  }

  releaseName(name: string, id: string): void {
    if (this.names.get(name) === id) this.names.delete(name);
  }

  nameTaken(name: string): boolean {
    return this.names.has(name);
  }

  async save(c: Container): Promise<void> {
    // One write at a time per container, each serialising the record when its turn comes: saves
    // from the health monitor and from an exit cannot land on disk out of order.
    const write = (this.writing.get(c.Id) ?? Promise.resolve()).catch(() => {}).then(async () => {
      await mkdir(this.dir(c.Id), { recursive: true, mode: 0o700 });
      await this.fs.writeFileAtomic(join(this.dir(c.Id), 'config.v2.json'), JSON.stringify(c));
    });
    this.writing.set(c.Id, write);
    try {
      await write;
    } finally {
      if (this.writing.get(c.Id) === write) this.writing.delete(c.Id);
    }
    this.byId.set(c.Id, c);
  }

  async remove(c: Container): Promise<void> {
    await this.writing.get(c.Id)?.catch(() => {});
    this.byId.delete(c.Id);
    this.releaseName(c.Name, c.Id);
    await rm(this.dir(c.Id), { recursive: true, force: true });
  }

  all(): Container[] {
    return [...this.byId.values()];
  }

  /** By full ID, name (with or without "/") or unique ID prefix. */
  find(ref: string): Container | undefined {
    const exact = this.byId.get(ref);
    if (exact) return exact;
    const byName = this.names.get(ref.startsWith('/') ? ref : `/${ref}`);
    if (byName && this.byId.has(byName)) return this.byId.get(byName);
    if (/^[a-f0-9]+$/.test(ref)) {
      const matches = this.all().filter((c) => c.Id.startsWith(ref));
      if (matches.length === 1) return matches[0];
    }
    return undefined;
  }

  get(ref: string): Container {
    const c = this.find(ref);
    if (!c) throw notFound(`No such container: ${ref}`);
    return c;
  }
}
