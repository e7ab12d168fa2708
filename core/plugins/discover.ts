// Finds plugins: built-ins under plugins/, folders given with --plugin-dir, npm packages by name.
// One path for all: each is a folder with a plugin.json; built-ins get no back door.
import { readdir, readFile, stat } from 'node:fs/promises';
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

const exists = (p: string) => stat(p).then(() => true, () => false);

async function readCandidate(dir: string, source: PluginSource): Promise<PluginCandidate> {
  const file = join(dir, 'plugin.json');
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw pluginError(dir, `cannot read manifest ${file}: ${messageOf(err)}`);
  }
  return { manifest: checkManifest(data, file), dir, source };
}

/** A folder that is a plugin, or that holds plugin folders. */
async function scanFolder(dir: string, source: PluginSource): Promise<PluginCandidate[]> {
  if (await exists(join(dir, 'plugin.json'))) return [await readCandidate(dir, source)];
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (err) {
    throw pluginError(dir, `cannot read plugin folder: ${messageOf(err)}`);
  }
  // Read side by side (a start reads some twenty manifests), checked and reported in name order.
  const read = await Promise.allSettled(names.map(async (n) => ((await exists(join(dir, n, 'plugin.json'))) ? readCandidate(join(dir, n), source) : undefined)));
  const found: PluginCandidate[] = [];
  for (const r of read) {
    if (r.status === 'rejected') throw r.reason;
    if (r.value) found.push(r.value);
  }
  if (source === 'dir' && found.length === 0) throw pluginError(dir, 'plugin folder holds no plugin.json');
  return found;
}

async function findPackage(name: string, from: string): Promise<string> {
  const paths = createRequire(join(from, 'package.json')).resolve.paths(name) ?? [];
  for (const p of paths) {
    if (await exists(join(p, name, 'plugin.json'))) return join(p, name);
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
  const all = [...(await scanFolder(opts.builtinDir, 'builtin'))];
  for (const d of opts.dirs) all.push(...(await scanFolder(resolve(d), 'dir')));
  for (const name of opts.packages) all.push(await readCandidate(await findPackage(name, opts.resolveFrom), 'npm'));
  const seen = new Map<string, PluginCandidate>();
  for (const c of all) {
    const prev = seen.get(c.manifest.name);
    if (prev) throw pluginError(c.manifest.name, `name: found twice, in ${prev.dir} and ${c.dir}`);
    seen.set(c.manifest.name, c);
  }
  return all;
}
