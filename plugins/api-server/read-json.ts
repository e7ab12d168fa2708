// JSON request bodies as dockerd reads them: Content-Type checked, size bounded, errors as 400.
import type { IncomingMessage } from 'node:http';
import { BerthError, invalid } from '../../core/plugin-api.js';

const LIMIT = 4 << 20;

/** Reads a JSON body; an empty body gives undefined. Never buffers more than 4 MiB. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'];
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > LIMIT) throw new BerthError('E_INVALID', `request body too large: more than ${LIMIT} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  if (type !== undefined && !/^application\/json\b/i.test(String(type))) {
    throw invalid(`Content-Type specified (${type}) must be 'application/json'`);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw invalid(`invalid JSON body: ${(err as Error).message}`);
  }
}
