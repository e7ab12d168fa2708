// Berth's version (package.json) and the commit it was built from (written by the build).
import { readFileSync } from 'node:fs';

function readJson(rel: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8'));
  } catch {
    return {};
  }
}

// Compiled to dist/core/version.js: the package root is two folders up.
export const BERTH_VERSION = String(readJson('../../package.json').version ?? '0.0.0');
export const BERTH_COMMIT = String(readJson('../build-info.json').commit ?? 'unknown');
export const BUILD_TIME = String(readJson('../build-info.json').buildTime ?? new Date(0).toISOString());
