// docker build with the real CLI, and build contexts written from a table of files.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { docker, type CommandResult } from './daemon.js';

/** docker build of `dir` with the legacy builder forced (DOCKER_BUILDKIT=0) or as the CLI picks it. */
export async function build(socket: string, args: string[], opts: { legacy?: boolean; expectCode?: number | 'failure' } = {}): Promise<CommandResult> {
  const before = process.env.DOCKER_BUILDKIT;
  if (opts.legacy !== false) process.env.DOCKER_BUILDKIT = '0';
  else delete process.env.DOCKER_BUILDKIT;
  try {
    return await docker(socket, ['build', ...args], { timeoutMs: 120_000, ...(opts.expectCode !== undefined ? { expectCode: opts.expectCode } : {}) });
  } finally {
    if (before === undefined) delete process.env.DOCKER_BUILDKIT;
    else process.env.DOCKER_BUILDKIT = before;
  }
}


/** A build context folder with these files (paths relative to it); returns the folder. */
export function writeContext(dir: string, files: Record<string, string>): string {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}
