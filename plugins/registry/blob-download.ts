// Downloads one blob to a file, hashing the bytes as they arrive: the digest and size must match
// the manifest's descriptor or the file is refused. A connection dropped mid-blob is resumed
// with a Range request where the registry (or its storage) supports it, else started over.
import { createHash } from 'node:crypto';
import { systemError } from '../../core/plugin-api.js';
import type { BlobSpool } from './blob-spool.js';
import type { Descriptor } from './manifest.js';
import type { RegistryClient } from './registry-client.js';
import { responseError } from './registry-errors.js';

export interface DownloadOptions {
  scopes: string[];
  attempts: number;
  signal?: AbortSignal;
  onProgress?: (received: number) => void;
  onRetry?: (attempt: number, err: Error) => void;
}

export const verificationError = (digest: string) => systemError(`filesystem layer verification failed for digest ${digest}`);

export async function downloadBlob(client: RegistryClient, repoPath: string, desc: Descriptor, spool: BlobSpool, o: DownloadOptions): Promise<void> {
  try {
    await fetchInto(client, repoPath, desc, spool, o);
  } catch (err) {
    await spool.finish(err as Error);
    throw err;
  }
  await spool.finish();
}

async function fetchInto(client: RegistryClient, repoPath: string, desc: Descriptor, spool: BlobSpool, o: DownloadOptions): Promise<void> {
  let hash = createHash('sha256');
  let received = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      const headers: Record<string, string> = received > 0 ? { Range: `bytes=${received}-` } : {};
      const res = await client.request('GET', `/v2/${repoPath}/blobs/${desc.digest}`, { scopes: o.scopes, headers, signal: o.signal });
      if (res.statusCode === 200 && received > 0) {
        // No range support: start over.
        received = 0;
        hash = createHash('sha256');
        await spool.restart();
      } else if (res.statusCode !== 200 && res.statusCode !== 206) {
        throw await responseError(res);
      }
      for await (const chunk of res as AsyncIterable<Buffer>) {
        if (desc.size > 0 && received + chunk.length > desc.size) { res.destroy(); throw verificationError(desc.digest); }
        hash.update(chunk);
        await spool.write(chunk, received);
        received += chunk.length;
        o.onProgress?.(received);
      }
      if (desc.size > 0 && received < desc.size) throw Object.assign(new Error('unexpected EOF'), { code: 'ECONNRESET' });
      break;
    } catch (err: any) {
      const transient = !err?.statusCode && !o.signal?.aborted && (err?.code === 'ECONNRESET' || /aborted|EOF|timeout|socket hang up/i.test(String(err?.message)));
      if (!transient || attempt >= o.attempts) throw err;
      o.onRetry?.(attempt, err);
      await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** (attempt - 1))));
    }
  }
  if (`sha256:${hash.digest('hex')}` !== desc.digest || (desc.size > 0 && received !== desc.size)) throw verificationError(desc.digest);
}
