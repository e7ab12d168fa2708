// The import rules of plugins/ and lib/, read from the sources: a plugin imports another plugin
// only through that plugin's index, and only one providing a service its manifest requires; from
// the core only core/plugin-api; shared code from lib/; packages only those package.json depends on.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';

export interface ImportViolation { file: string; specifier: string; reason: string }

// Static imports and re-exports (also `import type`), side-effect imports, dynamic import().
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'";]*?\sfrom\s+'([^']+)'|(?:^|\n)\s*import\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g;

function sourcesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourcesUnder(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

export function importsOf(source: string): string[] {
  return [...source.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3]);
}

interface Manifest { provides: Record<string, string>; requires: Record<string, string> }

/** provides/requires in either manifest form (arrays, or objects of versions and ranges). */
function readManifest(pluginDir: string): Manifest | undefined {
  const file = join(pluginDir, 'plugin.json');
  if (!existsSync(file)) return undefined;
  const m = JSON.parse(readFileSync(file, 'utf8')) as { name: string; version: string; provides?: unknown; requires?: unknown };
  const asRecord = (v: unknown): Record<string, string> => (Array.isArray(v) ? Object.fromEntries(v.map((s: string) => [s, '*'])) : (v as Record<string, string>) ?? {});
  return { provides: { ...asRecord(m.provides), [m.name]: m.version }, requires: asRecord(m.requires) };
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Every import in `root`'s plugins/ and lib/ that breaks the rules, with the reason. */
export function importViolations(root: string): ImportViolation[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const deps = new Set(Object.keys(pkg.dependencies ?? {}));
  const plugins = join(root, 'plugins');
  const manifests = new Map<string, Manifest | undefined>();
  const manifestOf = (name: string) => {
    if (!manifests.has(name)) manifests.set(name, readManifest(join(plugins, name)));
    return manifests.get(name);
  };
  const out: ImportViolation[] = [];
  const files = [...sourcesUnder(plugins), ...sourcesUnder(join(root, 'lib'))];
  for (const file of files) {
    const rel = relative(root, file).split(sep).join('/');
    const [area, owner] = rel.split('/');
    const refuse = (specifier: string, reason: string) => out.push({ file: rel, specifier, reason });
    for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('.')) {
        if (specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
        if (!deps.has(packageName(specifier))) refuse(specifier, `package ${packageName(specifier)} is not in package.json's dependencies`);
        continue;
      }
      const target = relative(root, join(dirname(file), specifier)).split(sep).join('/');
      const [tArea, tOwner] = target.split('/');
      if (tArea === 'core') {
        if (target !== 'core/plugin-api.js') refuse(specifier, 'from the core, import only core/plugin-api.js (tools come through the plugin context)');
      } else if (tArea === 'lib') {
        continue;
      } else if (tArea === 'plugins') {
        if (area === 'lib') { refuse(specifier, 'lib/ is shared by every plugin and imports none'); continue; }
        if (tOwner === owner) continue;
        if (target !== `plugins/${tOwner}/index.js`) { refuse(specifier, `import plugin ${tOwner} only through its index (plugins/${tOwner}/index.js)`); continue; }
        const mine = manifestOf(owner);
        const theirs = manifestOf(tOwner);
        const needed = Object.keys(mine?.requires ?? {}).filter((s) => s in (theirs?.provides ?? {}));
        if (!needed.length) refuse(specifier, `plugin ${owner}'s manifest requires no service that ${tOwner} provides`);
      } else {
        refuse(specifier, `${target} is outside plugins/, lib/ and core/plugin-api.js`);
      }
    }
  }
  return out;
}
