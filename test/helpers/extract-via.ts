// The two ways a layer archive is unpacked: extractLayer in the calling thread (fs/promises) and
// unpackLayer in a worker thread (blocking fs calls). Archive tests run each case both ways.
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { BerthError } from '../../core/errors.js';
import { extractLayer, unpackLayer, type WhiteoutMode } from '../../lib/archive/index.js';

export const EXTRACTORS = ['in-thread', 'worker'] as const;
export type Extractor = (typeof EXTRACTORS)[number];

const CONTEXT = 'graphdriver.test: applying diff to layer L';

/**
 * extractLayer's size and entry count, either way. The worker's errors must start with the context
 * the caller gave; it is removed so that both ways are checked with the same assertions.
 */
export async function extractWith(via: Extractor, tar: Readable, target: string, whiteouts: WhiteoutMode): Promise<{ size: number; entries: number }> {
  if (via === 'in-thread') return extractLayer(tar, target, { whiteouts });
  try {
    const { size, entries } = await unpackLayer(tar, target, whiteouts, CONTEXT);
    return { size, entries };
  } catch (err) {
    assert.ok(err instanceof BerthError, `the worker's error is a coded error: ${String(err)}`);
    assert.ok(err.message.startsWith(`${CONTEXT}: `), `the worker's error names the layer: ${err.message}`);
    throw new BerthError(err.code, err.message.slice(CONTEXT.length + 2));
  }
}
