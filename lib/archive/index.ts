// Layer archives: the one place that reads and writes layer tars (used by every graph driver).
// Security: nothing is ever written outside the target folder, whatever the archive says.
export type { WhiteoutMode, ExtractOptions, ExtractResult } from './extract.js';
export { extractLayer, applyDiffInto, applyDiffContext } from './extract.js';
export { unpackLayer, closeUnpackWorkers, type UnpackResult } from './unpack-pool.js';
export { recordTarSplit, assembleTarSplit, type TarSplitRecord } from './tar-split.js';
export { packChanges, packRoots, type PackEntry } from './pack.js';
export { isGzip, decompressed, decompressedArchive, peekStream } from './compression.js';
export { TarReader, type TarEntry, type TarHeader } from './tar-reader.js';
export { writeTar, type TarItem } from './tar-writer.js';
