// name:tag and name@digest → image ID, persisted atomically in repositories.json; a change is in
// memory only once the file holds it.
import { readFile } from 'node:fs/promises';
import type { PluginFs } from '../../core/plugin-api.js';
import { canonicalString, parseReference, type Reference } from '../../lib/image-reference.js';

export class ReferenceStore {
  /** canonical reference string → image ID */
  private refs = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly file: string, private readonly fs: PluginFs) {}

  async load(): Promise<void> {
    try {
      const data = JSON.parse(await readFile(this.file, 'utf8')) as { Repositories?: Record<string, Record<string, string>> };
      for (const repo of Object.values(data.Repositories ?? {})) {
        for (const [ref, id] of Object.entries(repo)) this.refs.set(ref, id);
      }
    } catch (err: any) {
      if (err.code !== 'ENOENT') throw new Error(`cannot read ${this.file}: ${err.message}`);
    }
  }

  /** Writes `refs` as repositories.json; the caller makes them the ones in memory only after. */
  private async save(refs: Map<string, string>): Promise<void> {
    const repos: Record<string, Record<string, string>> = {};
    for (const [ref, id] of [...refs].sort()) {
      const name = parseReference(ref).name;
      (repos[name] ??= {})[ref] = id;
    }
    await this.fs.writeFileAtomic(this.file, JSON.stringify({ Repositories: repos }));
  }

  /** One change at a time, each computed from what the one before left: none is lost or reordered. */
  private change(apply: (next: Map<string, string>) => boolean): Promise<boolean> {
    const run = this.queue.catch(() => {}).then(async () => {
      const next = new Map(this.refs);
      if (!apply(next)) return false;
      await this.save(next);
      this.refs = next;
      return true;
    });
    this.queue = run;
    return run;
  }

  get(ref: Reference): string | undefined {
    return this.refs.get(canonicalString(ref));
  }

  /** Points ref at id (on disk first, then in memory); returns the ID it pointed at before, if another. */
  async add(ref: Reference, id: string): Promise<string | undefined> {
    const key = canonicalString(ref);
    let before: string | undefined;
    await this.change((next) => {
      before = next.get(key);
      next.set(key, id);
      return true;
    });
    return before !== id ? before : undefined;
  }

  async delete(ref: Reference): Promise<boolean> {
    return this.change((next) => next.delete(canonicalString(ref)));
  }

  refsOf(id: string): Reference[] {
    return [...this.refs].filter(([, v]) => v === id).map(([k]) => parseReference(k)).sort((a, b) => canonicalString(a).localeCompare(canonicalString(b)));
  }

  all(): [Reference, string][] {
    return [...this.refs].map(([k, v]) => [parseReference(k), v]);
  }
}
