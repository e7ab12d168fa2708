// docker build with the real CLI, and build contexts written from a table of files.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { docker, type CommandResult } from './daemon.js';

/**
 * Runs fn with DOCKER_BUILDKIT=0 in the environment (the legacy builder forced), or without the
 * variable (the CLI picks: with no buildx plugin here, the legacy builder and its notice).
 */
export async function withBuilderEnv<T>(legacy: boolean, fn: () => Promise<T>): Promise<T> {
  const before = process.env.DOCKER_BUILDKIT;
  if (legacy) process.env.DOCKER_BUILDKIT = '0';
  else delete process.env.DOCKER_BUILDKIT;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.DOCKER_BUILDKIT;
    else process.env.DOCKER_BUILDKIT = before;
  }
}

/** docker build ARGS with the legacy builder forced (default) or as the CLI picks it; `input` its stdin. */
export function build(socket: string, args: string[], opts: { legacy?: boolean; expectCode?: number | 'failure'; input?: string } = {}): Promise<CommandResult> {
  return withBuilderEnv(opts.legacy !== false, () => docker(socket, ['build', ...args], {
    timeoutMs: 120_000,
    ...(opts.expectCode !== undefined ? { expectCode: opts.expectCode } : {}),
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  }));
}

/** A build context folder with these files (paths relative to it); returns the folder. */
export function writeContext(dir: string, files: Record<string, string>): string {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}
