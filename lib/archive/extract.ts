// Extraction of a layer archive (gzip or plain tar, Docker/OCI whiteouts) into a layer folder.
// Refuses, with the entry's name, anything that would write outside the folder.
import type { Readable } from 'node:stream';
import { BerthError, messageOf, systemError } from '../../core/plugin-api.js';
import { decompressed } from './compression.js';
import type { FsOps } from './fs-ops.js';
import { setXattrs, type XattrSetting } from './fs-tools.js';
import { LayerRoot } from './layer-root.js';
import { TarReader } from './tar-reader.js';
import { TarSplitRecorder, type TarSplitRecord } from './tar-split.js';
import { Pending, writeEntry, type WhiteoutMode } from './write-entry.js';

export type { WhiteoutMode } from './write-entry.js';

export interface ExtractOptions {
  /** 'overlay': the target is an overlay upper dir (whiteouts become 0/0 devices and opaque xattrs);
   *  'delete': the target holds a copy of the parent layer (whiteouts delete from it);
   *  'none': not a layer (a build context): whiteout names are ordinary entries. */
  whiteouts: WhiteoutMode;
  /** Also record the archive's tar-split in the same pass (result.tarSplit). */
  tarSplit?: boolean;
  /** Every entry gets this owner instead of the archive's (docker cp -a: the container's user). */
  owner?: { uid: number; gid: number };
  /** Refuse to replace a directory with a non-directory or the other way round (docker cp). */
  noOverwriteDirNonDir?: boolean;
  /** The file-system calls to use (default: fs/promises; an unpacking worker uses the blocking ones). */
  fs?: FsOps;
}

export interface ExtractResult {
  /** Bytes of regular file content written (what dockerd counts as a layer's size). */
  size: number;
  /** Entries in the archive (PAX and GNU long-name headers not counted). */
  entries: number;
  tarSplit?: TarSplitRecord;
}

export async function extractLayer(tar: Readable, target: string, opts: ExtractOptions): Promise<ExtractResult> {
  const root = new LayerRoot(target, opts.fs);
  const pending = new Pending(root, opts.whiteouts === 'delete');
  const recorder = opts.tarSplit ? new TarSplitRecorder() : null;
  let size = 0;
  let entries = 0;
  try {
    const reader = new TarReader(await decompressed(tar));
    for await (const entry of reader.entries()) {
      entries++;
      const content = recorder ? await recorder.header(entry) : true;
      try {
        if (opts.owner) Object.assign(entry.header, opts.owner);
        size += await writeEntry(entry, { root, pending, whiteouts: opts.whiteouts, noOverwriteDirNonDir: opts.noOverwriteDirNonDir });
      } catch (err) {
        throw err instanceof BerthError ? err : systemError(`extracting layer into ${target}: entry ${JSON.stringify(entry.header.path)}: ${(err as Error).message}`, err);
      }
      if (recorder) await recorder.rest(entry, content);
    }
    await recorder?.segment(reader.trailer);
    await pending.settle();
    await finish(root, pending);
    return { size, entries, ...(recorder ? { tarSplit: await recorder.finish() } : {}) };
  } catch (err) {
    recorder?.abort();
    // Nothing may still be writing once extraction has answered.
    await pending.settle().catch(() => {});
    throw asArchiveError(err, target);
  }
}

/** How a graph driver names a failure of applyDiff (the layer store's worker path says the same). */
export const applyDiffContext = (driver: string, id: string) => `graphdriver.${driver}: applying diff to layer ${id}`;

/**
 * A driver's applyDiff when it unpacks into one folder (its unpackTarget): an archive's own fault
 * keeps its code (a refused entry is the client's 400, not our 500), the message names the layer.
 */
export async function applyDiffInto(driver: string, id: string, diff: Readable, target: { dir: string; whiteouts: WhiteoutMode }): Promise<number> {
  try {
    return (await extractLayer(diff, target.dir, { whiteouts: target.whiteouts })).size;
  } catch (err) {
    throw new BerthError(err instanceof BerthError ? err.code : 'E_SYSTEM', `${applyDiffContext(driver, id)}: ${messageOf(err)}`, { cause: err });
  }
}

/** xattrs last (chown clears security.capability), then directory times (children change them). */
async function finish(root: LayerRoot, pending: Pending): Promise<void> {
  const settings: XattrSetting[] = [];
  for (const [rel, xattrs] of pending.xattrs) {
    if (!(await root.stillInside(rel))) continue;
    for (const [name, value] of xattrs) settings.push({ path: root.full(rel), name, value });
  }
  await setXattrs(settings);
  for (const [rel, mtime] of pending.dirTimes) {
    if (await root.stillInside(rel)) await root.fs.lutimes(root.full(rel), mtime, mtime);
  }
}

function asArchiveError(err: unknown, target: string): unknown {
  if (err instanceof BerthError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  // zlib reports a damaged gzip stream with Z_* codes: the archive's fault, not ours.
  if (code.startsWith('Z_')) return new BerthError('E_INVALID', `invalid layer archive: gzip: ${(err as Error).message}`);
  return systemError(`extracting layer into ${target}: ${(err as Error).message}`, err);
}
