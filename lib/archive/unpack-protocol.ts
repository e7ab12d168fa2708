// Messages between the layer unpacking workers and the main thread (unpack-pool.ts).
import type { WhiteoutMode } from './write-entry.js';
import type { TarSplitRecord } from './tar-split.js';

export interface UnpackResult {
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** Bytes of regular file content written. */
  size: number;
  /** Length of the uncompressed tar. */
  tarSize: number;
  /** Entries in the archive (as extractLayer counts them). */
  entries: number;
  tarSplit: TarSplitRecord;
}

export type ToWorker =
  | { type: 'start'; dir: string; whiteouts: WhiteoutMode }
  | { type: 'data'; chunk: Uint8Array }
  | { type: 'end' }
  | { type: 'abort'; reason: string };

export type FromWorker =
  | { type: 'ack'; bytes: number }
  | { type: 'done'; result: UnpackResult }
  | { type: 'error'; error: { message: string; code?: string; errno?: string } };
