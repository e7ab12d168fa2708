// Where a layer lives, dockerd's overlay2 layout:
//   <root>/<id>/diff     the layer's own content (the upper dir of a read-write layer)
//   <root>/<id>/link     the layer's short name
//   <root>/<id>/lower    its parents as l/<short> names, nearest first, colon-separated
//   <root>/<id>/work     overlayfs's work dir (read-write layers)
//   <root>/<id>/merged   the mount point (layers with parents)
//   <root>/l/<short>  -> ../<id>/diff
// The short names keep the mount options of a deep stack under the kernel's one-page limit
// (128 lowers of "l/" + 26 characters fit; 128 absolute paths of 64-character ids would not).
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { invalid } from '../../core/plugin-api.js';

/** dockerd's limit on the parents of one layer. */
export const MAX_DEPTH = 128;
export const LINKS = 'l';

const LAYER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const SHORT_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function checkLayerId(id: string): void {
  if (!LAYER_ID.test(id) || id === LINKS) {
    throw invalid(`graphdriver.overlay: invalid layer id "${id}": must match ${LAYER_ID.source} and not be "${LINKS}"`);
  }
}

/** A random 26-character name, as dockerd's (base32 of 128 bits). */
export function newShortName(): string {
  return [...randomBytes(26)].map((b) => SHORT_ALPHABET[b % 32]).join('');
}

export class Layout {
  constructor(readonly root: string) {}

  layer(id: string): string {
    checkLayerId(id);
    return join(this.root, id);
  }
  diff(id: string): string {
    return join(this.layer(id), 'diff');
  }
  work(id: string): string {
    return join(this.layer(id), 'work');
  }
  merged(id: string): string {
    return join(this.layer(id), 'merged');
  }
  links(): string {
    return join(this.root, LINKS);
  }

  async shortName(id: string): Promise<string> {
    return (await readFile(join(this.layer(id), 'link'), 'utf8')).trim();
  }

  /** The parents of `id` as paths relative to the root (l/<short>), nearest first; [] for a base layer. */
  async lowers(id: string): Promise<string[]> {
    try {
      const text = (await readFile(join(this.layer(id), 'lower'), 'utf8')).trim();
      return text ? text.split(':') : [];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }
}
