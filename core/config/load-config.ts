// Reads flags, daemon.json and every plugin's manifest into one validated configuration.
// Two passes over argv: the first finds --config-file and --plugin-dir, because plugins
// declare their own flags and keys and must be discovered before the full parse.
import { pluginError } from '../errors.js';
import { discoverPlugins, type PluginCandidate } from '../plugins/discover.js';
import { flagTypeOf } from '../plugins/manifest.js';
import { orderPlugins } from '../plugins/order.js';
import { coreFlags, coreReloadable, coreSchema, coreView, DEFAULT_CONFIG_FILE, type CoreConfig } from './core-options.js';
import { readConfigFile, resolveConfig, type ConfigSection, type ResolvedConfig } from './daemon-config.js';
import { parseFlags, type FlagSpec } from './flags.js';

export interface LoadedConfig {
  file: string;
  explicitFile: boolean;
  /** Plugins in initialisation order. */
  plugins: PluginCandidate[];
  flags: FlagSpec[];
  flagValues: Record<string, unknown>;
  positionals: string[];
  sections: ConfigSection[];
  resolved: ResolvedConfig;
  core: CoreConfig;
  /** Keys a SIGHUP may change. */
  reloadable: Set<string>;
}

export interface LoadOptions {
  builtinDir: string;
  resolveFrom: string;
}

function pluginFlags(plugins: PluginCandidate[]): FlagSpec[] {
  const flags = [...coreFlags];
  for (const p of plugins) {
    const props = (p.manifest.config.properties ?? {}) as Record<string, Record<string, unknown>>;
    for (const f of p.manifest.flags) {
      const clash = flags.find((g) => g.name === f.name || (f.short && g.short === f.short));
      if (clash) throw pluginError(p.manifest.name, `flags.${f.name}: --${f.name}${f.short ? `/-${f.short}` : ''} is already declared by ${clash.owner}`);
      flags.push({ ...f, type: f.type ?? flagTypeOf(props[f.key]), owner: p.manifest.name });
    }
  }
  return flags;
}

export async function loadConfiguration(argv: string[], opts: LoadOptions): Promise<LoadedConfig> {
  const pre = parseFlags(argv, coreFlags, true).values;
  const explicitFile = typeof pre['config-file'] === 'string';
  const file = explicitFile ? (pre['config-file'] as string) : DEFAULT_CONFIG_FILE;
  const fileValues = await readConfigFile(file, explicitFile);
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const discovered = await discoverPlugins({
    builtinDir: opts.builtinDir,
    dirs: [...list(pre['plugin-dirs']), ...list(fileValues['plugin-dirs'])],
    packages: [...list(pre.plugins), ...list(fileValues.plugins)],
    resolveFrom: opts.resolveFrom,
  });
  const plugins = orderPlugins(discovered);
  const flags = pluginFlags(plugins);
  const parsed = parseFlags(argv, flags);
  const sections: ConfigSection[] = [
    { owner: 'core', schema: coreSchema },
    ...plugins.map((p) => ({ owner: p.manifest.name, schema: p.manifest.config })),
  ];
  const { 'config-file': _f, validate: _v, version: _ver, help: _h, ...flagValues } = parsed.values;
  const resolved = resolveConfig(sections, fileValues, flagValues, file);
  return {
    file,
    explicitFile,
    plugins,
    flags,
    flagValues: parsed.values,
    positionals: parsed.positionals,
    sections,
    resolved,
    core: coreView(resolved.values),
    reloadable: new Set([...coreReloadable, ...plugins.flatMap((p) => p.manifest.reloadable)]),
  };
}

/** Re-reads daemon.json for SIGHUP, keeping the flags given at start. Throws if the new file is invalid. */
export async function reloadConfiguration(current: LoadedConfig): Promise<ResolvedConfig> {
  const fileValues = await readConfigFile(current.file, current.explicitFile);
  const { 'config-file': _f, validate: _v, version: _ver, help: _h, ...flagValues } = current.flagValues;
  return resolveConfig(current.sections, fileValues, flagValues, current.file);
}
