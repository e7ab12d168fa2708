// How a plugin's entry module is loaded. A start from the start-up snapshot (bin/bundle.mjs) has
// the built-in plugins' modules evaluated already, registered under their file paths; a third-party
// plugin is imported through the importer the snapshot's main function made, because an import()
// compiled into a snapshot has no module loader to call.
import { pathToFileURL } from 'node:url';

const PRELOADED = Symbol.for('berth.preloadedModules');
const IMPORTER = Symbol.for('berth.importModule');

type Importer = (url: string) => Promise<unknown>;

export function importEntry(path: string): Promise<unknown> {
  const g = globalThis as unknown as Record<symbol, unknown>;
  const preloaded = (g[PRELOADED] as Map<string, unknown> | undefined)?.get(path);
  if (preloaded) return Promise.resolve(preloaded);
  const url = pathToFileURL(path).href;
  const importer = g[IMPORTER] as Importer | undefined;
  return importer ? importer(url) : import(url);
}
