// The daemon's ID, persisted in the data root so that GET /info reports the same one after a restart.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write.js';

export async function loadDaemonId(dataRoot: string): Promise<string> {
  const file = join(dataRoot, 'engine-id');
  try {
    const id = (await readFile(file, 'utf8')).trim();
    if (id) return id;
  } catch (err: any) {
    if (err.code !== 'ENOENT') throw err;
  }
  const id = randomUUID();
  await writeFileAtomic(file, id, 0o600);
  return id;
}
