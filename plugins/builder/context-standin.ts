// THROWAWAY stand-in until the build context (plugins/builder/context, branch buildctx) lands:
// the request's tar (plain or compressed) unpacked into a folder of the build's own.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import type { Readable } from 'node:stream';
import { invalid } from '../../core/plugin-api.js';
import { decompressedArchive, extractLayer } from '../../lib/archive/index.js';

export interface OpenedContext {
  root: string;
  dockerfile: string;
  close(): Promise<void>;
}

export async function openContext(body: Readable, dir: string, dockerfilePath: string): Promise<OpenedContext> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await extractLayer(await decompressedArchive(body), dir, { whiteouts: 'delete' });
  const rel = normalize(dockerfilePath).replace(/^\/+/, '');
  if (rel.startsWith('..')) throw invalid(`Cannot locate specified Dockerfile: ${dockerfilePath}`);
  const dockerfile = await readFile(join(dir, rel), 'utf8').catch(() => { throw invalid(`Cannot locate specified Dockerfile: ${dockerfilePath}`); });
  return { root: dir, dockerfile, close: () => rm(dir, { recursive: true, force: true }) };
}
