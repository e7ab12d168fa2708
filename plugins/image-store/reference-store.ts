// name:tag and name@digest → image ID, persisted atomically in repositories.json.
import { readFile } from 'node:fs/promises';
import type { PluginFs } from '../../core/plugin-api.js';
import { canonicalString, parseReference, type Reference } from '../../lib/image-reference.js';

export class ReferenceStore {
  /** canonical reference string → image ID */
  private refs = new Map<string, string>();

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

  private async save(): Promise<void> {
    const repos: Record<string, Record<string, string>> = {};
    for (const [ref, id] of [...this.refs].sort()) {
      const name = parseReference(ref).name;
      (repos[name] ??= {})[ref] = id;
    }
    await this.fs.writeFileAtomic(this.file, JSON.stringify({ Repositories: repos }));
  }

  get(ref: Reference): string | undefined {
    return this.refs.get(canonicalString(ref));
  }

  /** Points ref at id; returns the ID it pointed at before, if another. */
  async add(ref: Reference, id: string): Promise<string | undefined> {
    const key = canonicalString(ref);
    const before = this.refs.get(key);
    this.refs.set(key, id);
    await this.save();
    return before !== id ? before : undefined;
  }

  async delete(ref: Reference): Promise<boolean> {
    const had = this.refs.delete(canonicalString(ref));
    if (had) await this.save();
    return had;
  }

  refsOf(id: string): Reference[] {
    return [...this.refs].filter(([, v]) => v === id).map(([k]) => parseReference(k)).sort((a, b) => canonicalString(a).localeCompare(canonicalString(b)));
  }

  all(): [Reference, string][] {
    return [...this.refs].map(([k, v]) => [parseReference(k), v]);
  }
}
