// Containers on disk: <data-root>/containers/<id>/config.v2.json, written atomically and read
// back at start. Names are reserved synchronously, so two concurrent creates cannot share one.
// A record is what is on disk: a save that fails puts the record in memory back as it was, except
// for facts that already happened (an exit), which stay and are written again until the disk takes them.
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
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

/** Where records that cannot be read are moved at start: kept for the operator, never deleted. */
export const CORRUPT_DIR = '.corrupt';

export interface SetAside { container: string; path: string; reason: string; /** Moved aside by this start (else by an earlier one). */ now: boolean }

/** How often a record whose save failed (a full disk) is written again. */
const RETRY_MS = 2_000;

export class ContainerStore {
  private readonly byId = new Map<string, Container>();
  /** name → id, reservations included. */
  private readonly names = new Map<string, string>();
  private readonly writing = new Map<string, Promise<void>>();
  /** id → the record as memory holds it to be true: what it was last written as, or a fact not yet written. */
  private readonly accepted = new Map<string, string>();
  /** Records whose facts are not on disk yet, written again every RETRY_MS. */
  private readonly unsaved = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;
  /** Records start-up could not read, moved aside into CORRUPT_DIR. */
  readonly setAside: SetAside[] = [];

  constructor(readonly root: string, private readonly log: Logger, private readonly fs: PluginFs) {}

  async load(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    for (const id of await readdir(this.root)) {
      if (!/^[a-f0-9]{64}$/.test(id)) continue;
      const file = join(this.root, id, 'config.v2.json');
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        // No record at all: a create that a crash interrupted before its first write.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') { await this.moveAside(id, file, err); continue; }
        this.log.warn({ container: id, path: file }, 'removing a container folder without a record (an interrupted create)');
        await rm(join(this.root, id), { recursive: true, force: true });
        continue;
      }
      try {
        const c = tolerate(JSON.parse(text) as Container);
        if (!c || typeof c !== 'object' || c.Id !== id || typeof c.Name !== 'string' || !c.State || typeof c.State !== 'object') {
          throw new Error('the record is not a container of this folder');
        }
        this.byId.set(c.Id, c);
        this.names.set(c.Name, c.Id);
        this.accepted.set(c.Id, text);
      } catch (err) {
        await this.moveAside(id, file, err);
      }
    }
    // Records an earlier start moved aside stay reported until the operator deals with them.
    for (const name of await readdir(join(this.root, CORRUPT_DIR)).catch(() => [] as string[])) {
      const path = join(this.root, CORRUPT_DIR, name);
      if (!this.setAside.some((a) => a.path === path)) this.setAside.push({ container: name.slice(0, 64), path, reason: 'moved aside at an earlier start', now: false });
    }
  }

  /**
   * A record that cannot be read (truncated, garbage) is moved aside whole, with its logs, as
   * dockerd leaves it in place: the operator decides. Its read-write layer is left alone.
   */
  private async moveAside(id: string, file: string, err: unknown): Promise<void> {
    const reason = (err as Error).message;
    const dest = join(this.root, CORRUPT_DIR, `${id}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    try {
      await mkdir(join(this.root, CORRUPT_DIR), { recursive: true, mode: 0o700 });
      await rename(join(this.root, id), dest);
    } catch (moveErr) {
      // Cannot even move it (a full disk): it stays where it is, unloaded, and is reported all the same.
      this.log.error({ container: id, path: file, err: reason, moveErr: (moveErr as Error).message }, 'failed to load container; cannot move its record aside');
      this.setAside.push({ container: id, path: join(this.root, id), reason, now: true });
      return;
    }
    this.log.error({ container: id, path: file, movedTo: dest, err: reason }, 'failed to load container: its record cannot be read; moved aside');
    this.setAside.push({ container: id, path: dest, reason, now: true });
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

  /**
   * Writes the record; only then is it the one in memory. On failure the record in memory (the
   * same object, when the caller changed it in place) is put back as it was, and the error thrown.
   */
  async save(c: Container): Promise<void> {
    let text: string;
    try {
      text = await this.write(c);
    } catch (err) {
      const before = this.accepted.get(c.Id);
      if (before !== undefined && this.byId.get(c.Id) === c) restore(c, before);
      throw err;
    }
    this.accepted.set(c.Id, text);
    this.unsaved.delete(c.Id);
    this.byId.set(c.Id, c);
  }

  /**
   * Records a fact that already happened (a process exited): memory keeps it whatever the disk
   * says, and a failed write is logged and tried again until it succeeds. Never throws.
   */
  async record(c: Container): Promise<void> {
    this.accepted.set(c.Id, JSON.stringify(c));
    try {
      await this.save(c);
    } catch (err) {
      this.log.error({ err: (err as Error).message, container: c.Id, path: join(this.dir(c.Id), 'config.v2.json') }, 'cannot save container state; keeping it in memory and retrying');
      this.unsaved.add(c.Id);
      this.retryTimer ??= setInterval(() => void this.retryUnsaved(), RETRY_MS).unref();
    }
  }

  private async retryUnsaved(): Promise<void> {
    for (const id of [...this.unsaved]) {
      const c = this.byId.get(id);
      if (!c) { this.unsaved.delete(id); continue; }
      try {
        await this.save(c);
        this.log.info({ container: id }, 'container state saved after an earlier failure');
      } catch { /* still no space: next round */ }
    }
    if (!this.unsaved.size && this.retryTimer) {
      clearInterval(this.retryTimer);
      this.retryTimer = undefined;
    }
  }

  /** Records whose latest state is only in memory so far. */
  unsavedRecords(): string[] {
    return [...this.unsaved];
  }

  /** One write at a time per container, each serialising the record when its turn comes. */
  private async write(c: Container): Promise<string> {
    let text = '';
    const write = (this.writing.get(c.Id) ?? Promise.resolve()).catch(() => {}).then(async () => {
      text = JSON.stringify(c);
      await mkdir(this.dir(c.Id), { recursive: true, mode: 0o700 });
      await this.fs.writeFileAtomic(join(this.dir(c.Id), 'config.v2.json'), text);
    });
    this.writing.set(c.Id, write);
    try {
      await write;
    } finally {
      if (this.writing.get(c.Id) === write) this.writing.delete(c.Id);
    }
    return text;
  }

  async remove(c: Container): Promise<void> {
    await this.writing.get(c.Id)?.catch(() => {});
    this.byId.delete(c.Id);
    this.accepted.delete(c.Id);
    this.unsaved.delete(c.Id);
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

/** Puts a record changed in place back to its accepted text (same object: every holder sees it). */
function restore(c: Container, text: string): void {
  const before = JSON.parse(text) as Container;
  for (const key of Object.keys(c) as (keyof Container)[]) if (!(key in before)) delete c[key];
  Object.assign(c, before);
}
