// What Berth knows about a layer's compressed form in registries (dockerd's v2 metadata): the
// blob digest and size for a diffID and the repositories holding it. A re-push then checks or
// mounts the blob instead of compressing and uploading the layer again.
import { readFile } from 'node:fs/promises';
import type { PluginFs } from '../../core/plugin-api.js';

export interface BlobRecord {
  digest: string;
  size: number;
  /** registry host/repository path, e.g. 127.0.0.1:5000/t/busybox */
  repos: string[];
}

export class LayerDigests {
  private byDiffId = new Map<string, BlobRecord[]>();
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly file: string, private readonly fs: PluginFs) {}

  async load(): Promise<void> {
    try {
      this.byDiffId = new Map(Object.entries(JSON.parse(await readFile(this.file, 'utf8'))));
    } catch (err: any) {
      if (err.code !== 'ENOENT') throw new Error(`cannot read ${this.file}: ${err.message}`);
    }
  }

  get(diffId: string): BlobRecord[] {
    return this.byDiffId.get(diffId) ?? [];
  }

  async add(diffId: string, digest: string, size: number, repo: string): Promise<void> {
    const list = this.byDiffId.get(diffId) ?? [];
    let rec = list.find((r) => r.digest === digest);
    if (!rec) list.push((rec = { digest, size, repos: [] }));
    if (rec.repos.includes(repo)) return;
    rec.repos.push(repo);
    this.byDiffId.set(diffId, list);
    // Writes are serialised: concurrent layers of one push record in turn.
    this.saving = this.saving.then(() => this.fs.writeFileAtomic(this.file, JSON.stringify(Object.fromEntries(this.byDiffId))));
    await this.saving;
  }
}
