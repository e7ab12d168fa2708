// Entry names as paths inside the layer: cleaned lexically, never resolved on the host.
import { BerthError } from '../../core/plugin-api.js';

/** The one refusal message for a bad archive entry, naming the entry as the archive does. */
export function refuse(entry: string, reason: string): BerthError {
  return new BerthError('E_INVALID', `invalid layer archive: entry ${JSON.stringify(entry)}: ${reason}`);
}

/**
 * The components of `name` inside the layer ([] for the root). Like dockerd, a leading "/" is
 * dropped ("/etc/x" is "etc/x"); a ".." that would climb above the root is refused.
 */
export function layerPathParts(name: string, entry: string = name): string[] {
  if (name.includes('\0')) throw refuse(entry, 'path contains a NUL byte');
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) throw refuse(entry, 'path escapes the layer');
      parts.pop();
      continue;
    }
    parts.push(part);
  }
  return parts;
}

/** The cleaned relative path ("" for the root). */
export function layerPath(name: string, entry: string = name): string {
  return layerPathParts(name, entry).join('/');
}

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE = '.wh..wh..opq';
/** AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs): dockerd skips it, so do we. */
export const WHITEOUT_META_PREFIX = '.wh..wh.';

export type WhiteoutName =
  | { kind: 'none' }
  | { kind: 'opaque' }
  | { kind: 'meta' }
  | { kind: 'whiteout'; name: string };

/**
 * What an entry's last component means as a whiteout. Checked on the raw name too, so that a
 * whiteout name can neither be used as a directory nor be cleaned away (".wh.../..").
 */
export function whiteoutOf(name: string, parts: string[]): WhiteoutName {
  const raw = name.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.length > 0 && parts[0].startsWith(WHITEOUT_META_PREFIX) && parts[0] !== OPAQUE) return { kind: 'meta' };
  for (const dir of raw.slice(0, -1)) {
    if (dir.startsWith(WHITEOUT_PREFIX)) throw refuse(name, `whiteout name ${JSON.stringify(dir)} used as a directory`);
  }
  const base = parts.at(-1) ?? '';
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'none' };
  if (base === OPAQUE) return { kind: 'opaque' };
  if (base.startsWith(WHITEOUT_META_PREFIX)) return { kind: 'meta' };
  const target = base.slice(WHITEOUT_PREFIX.length);
  if (target === '' || target === '.' || target === '..') throw refuse(name, `invalid whiteout name ${JSON.stringify(base)}`);
  return { kind: 'whiteout', name: target };
}
