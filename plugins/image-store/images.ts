// The image store's operations: resolve names, tag, delete, prune, and the views the API returns.
import { conflict, invalid, type JobEvent, notFound } from '../../core/plugin-api.js';
import { hexOf, isDigest } from '../../lib/digest.js';
import type { Image, ImageDb } from './image-db.js';
import type { LayerStore } from './layer-store.js';
import { familiarString, normalize, parseReference, type Reference } from '../../lib/image-reference.js';
import type { ReferenceStore } from './reference-store.js';
import type { ImageHooks } from './hooks.js';

export type Emit = (e: JobEvent) => void;
export type DeleteResponse = ({ Untagged: string } | { Deleted: string })[];

const short = (id: string) => hexOf(id).slice(0, 12);

export class Images {
  constructor(
    readonly layers: LayerStore,
    readonly db: ImageDb,
    readonly refs: ReferenceStore,
    private readonly hooks: ImageHooks,
  ) {}

  /** What uses the image (a container's ID), as the inUse hook's taps say. */
  private user(imageId: string): string | undefined {
    return this.hooks.inUse.call(imageId);
  }

  /** By full ID, reference (name[:tag], name@digest) or unique ID prefix, as dockerd resolves them. */
  find(name: string): Image | undefined {
    if (isDigest(name)) return this.db.get(name);
    let ref: Reference | undefined;
    try {
      ref = normalize(name);
    } catch { /* not a reference: maybe an ID prefix */ }
    if (ref) {
      const id = this.refs.get(ref);
      if (id) return this.db.get(id);
    }
    const prefix = name.replace(/^sha256:/, '');
    if (/^[a-f0-9]{1,64}$/.test(prefix)) {
      const matches = this.db.byPrefix(prefix);
      if (matches.length === 1) return matches[0];
    }
    return undefined;
  }

  resolve(name: string): Image {
    const image = this.find(name);
    if (!image) throw notFound(`No such image: ${name}`);
    return image;
  }

  tagsOf(id: string): string[] {
    return this.refs.refsOf(id).filter((r) => r.tag).map(familiarString);
  }

  digestsOf(id: string): string[] {
    return this.refs.refsOf(id).filter((r) => r.digest).map(familiarString);
  }

  size(image: Image): number {
    return image.chain.reduce((n, c) => n + (this.layers.get(c)?.size ?? 0), 0);
  }

  children(id: string): Image[] {
    return this.db.all().filter((i) => i.parent === id);
  }

  isDangling(image: Image): boolean {
    return this.refs.refsOf(image.id).length === 0;
  }

  async tag(id: string, refText: string, emit: Emit): Promise<void> {
    const ref = normalize(refText);
    if (ref.digest) throw invalid('refusing to create a tag with a digest reference');
    await this.refs.add(ref, id);
    // The tag is on disk and in memory: a last-tag time the disk cannot take is not worth failing it.
    await this.db.setLastTagTime(id).catch(() => {});
    emit({ Type: 'image', Action: 'tag', Actor: { ID: id, Attributes: { name: familiarString(ref) } } });
  }

  /** docker rmi: untag by name, delete when nothing refers to the image any more. */
  async delete(name: string, force: boolean, prune: boolean, emit: Emit): Promise<DeleteResponse> {
    const image = this.resolve(name);
    const out: DeleteResponse = [];
    let byRef: Reference | undefined;
    try {
      const r = normalize(name);
      if (this.refs.get(r) === image.id && !isDigest(name)) byRef = r;
    } catch { /* an ID */ }
    const user = this.user(image.id);
    const refs = this.refs.refsOf(image.id);
    if (byRef) {
      // A name was given: it goes first; the image goes too only when no name is left. Its only
      // name is not taken from an image a container uses (the image would be left unnamed).
      if (user && !force && isSingleReference(refs)) throw conflict(`conflict: unable to remove repository reference "${name}" (must force) - container ${short(user)} is using its referenced image ${short(image.id)}`);
      await this.untag(image.id, byRef, out, emit);
      // As dockerd: a repository's digest references go with its last tag, whatever other
      // repositories still name the image.
      const left = this.refs.refsOf(image.id);
      if (byRef.tag && !left.some((r) => r.tag && r.name === byRef!.name)) {
        for (const r of left) if (r.digest && r.name === byRef.name) await this.untag(image.id, r, out, emit);
      }
      if (this.refs.refsOf(image.id).length > 0) return out;
    } else if (!isSingleReference(refs) && refs.length > 0 && !force) {
      throw conflict(`conflict: unable to delete ${short(image.id)} (must be forced) - image is referenced in multiple repositories`);
    }
    if (user && !force) {
      throw conflict(`conflict: unable to delete ${short(image.id)} (must be forced) - image is being used by stopped container ${short(user)}`);
    }
    if (this.children(image.id).length) {
      // Its last name removed, an image other images build on stays, quietly (as dockerd).
      if (byRef) return out;
      throw conflict(`conflict: unable to delete ${short(image.id)} (cannot be forced) - image has dependent child images`);
    }
    for (const r of this.refs.refsOf(image.id)) await this.untag(image.id, r, out, emit);
    await this.removeImage(image, prune, out, emit);
    return out;
  }

  private async untag(id: string, ref: Reference, out: DeleteResponse, emit: Emit): Promise<void> {
    await this.refs.delete(ref);
    out.push({ Untagged: familiarString(ref) });
    emit({ Type: 'image', Action: 'untag', Actor: { ID: id, Attributes: { name: familiarString(ref) } } });
  }

  private async removeImage(image: Image, prune: boolean, out: DeleteResponse, emit: Emit): Promise<void> {
    await this.db.delete(image.id);
    out.push({ Deleted: image.id });
    emit({ Type: 'image', Action: 'delete', Actor: { ID: image.id, Attributes: { name: image.id } } });
    for (const chainId of await this.releaseLayers(image.chain)) out.push({ Deleted: chainId });
    // An untagged parent left without children goes too, unless noprune.
    if (prune && image.parent) {
      const parent = this.db.get(image.parent);
      if (parent && this.isDangling(parent) && this.children(parent.id).length === 0 && !this.user(parent.id)) {
        await this.removeImage(parent, prune, out, emit);
      }
    }
  }

  /** Removes the layers of `chain` that no image uses any more, top first; returns their chainIDs. */
  async releaseLayers(chain: string[]): Promise<string[]> {
    const used = new Set(this.db.all().flatMap((i) => i.chain));
    const removed: string[] = [];
    for (const chainId of [...chain].reverse()) {
      if (used.has(chainId)) break; // a used layer keeps its parents too
      await this.layers.remove(chainId);
      removed.push(chainId);
    }
    return removed;
  }

  /**
   * Start-up: removes the layers a crash left between a commit's layer and its image (provisional,
   * no image owns them, nothing else holds them), children before parents; returns them.
   */
  async collectOrphanLayers(): Promise<string[]> {
    const used = new Set(this.db.all().flatMap((i) => i.chain));
    const keep = (id: string | null) => {
      for (; id && !used.has(id); id = this.layers.get(id)?.parent ?? null) used.add(id);
    };
    for (const l of this.layers.all()) if (!used.has(l.chainId) && this.hooks.layerInUse.call(l.chainId)) keep(l.chainId);
    const depth = (id: string | null): number => {
      let n = 0;
      for (; id; id = this.layers.get(id)?.parent ?? null) n++;
      return n;
    };
    // An unowned layer of an interrupted pull or load stays for the next one to reuse; what a commit
    // left provisional (and anything on it) goes.
    const fromCommit = (id: string | null): boolean => {
      for (; id; id = this.layers.get(id)?.parent ?? null) if (this.layers.get(id)?.provisional) return true;
      return false;
    };
    const orphans = this.layers.all().filter((l) => !used.has(l.chainId) && fromCommit(l.chainId)).sort((a, b) => depth(b.chainId) - depth(a.chainId));
    for (const l of orphans) await this.layers.remove(l.chainId);
    return orphans.map((l) => l.chainId);
  }

  /** docker image prune: dangling images (all unused ones with -a). */
  async prune(all: boolean, keep: (image: Image) => boolean, emit: Emit): Promise<{ ImagesDeleted: DeleteResponse | null; SpaceReclaimed: number }> {
    const deleted: DeleteResponse = [];
    let reclaimed = 0;
    for (const image of this.db.all()) {
      if (!this.db.get(image.id)) continue; // removed as a parent already
      if (!all && !this.isDangling(image)) continue;
      if (this.user(image.id) || this.children(image.id).length || !keep(image)) continue;
      const before = this.layers.all().reduce((n, l) => n + l.size, 0);
      for (const r of this.refs.refsOf(image.id)) await this.untag(image.id, r, deleted, emit);
      await this.removeImage(image, true, deleted, emit);
      reclaimed += before - this.layers.all().reduce((n, l) => n + l.size, 0);
    }
    if (deleted.length) emit({ Type: 'image', Action: 'prune', Actor: { ID: '', Attributes: { reclaimed: String(reclaimed) } } });
    return { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  }

  /** Validates a reference the client wants to create (repo and tag given apart, as the API does). */
  static joinRepoTag(repo: string, tag: string | undefined): string {
    if (!repo) throw invalid('repository name must have at least one component');
    const parsed = parseReference(repo);
    if (tag && (parsed.tag || parsed.digest)) throw invalid(`invalid reference format: tag given twice in "${repo}" and "${tag}"`);
    return tag ? `${repo}:${tag}` : repo;
  }
}

/**
 * dockerd's test for deleting by ID without -f: every name is in one repository, with at most one
 * tag (a pulled image's tag and its digest reference count as one).
 */
function isSingleReference(refs: Reference[]): boolean {
  if (refs.length === 0) return false;
  const tags = refs.filter((r) => !r.digest);
  if (tags.length > 1) return false;
  const name = (tags[0] ?? refs[0]).name;
  return refs.every((r) => r.name === name);
}
