// Initialisation order by requires/provides (Kahn's algorithm: providers first, then discovery order), and
// each required version range checked against the version its provider declares.
import { pluginError } from '../errors.js';
import { satisfies } from '../semver.js';
import type { PluginCandidate } from './discover.js';
import { providedVersion } from './manifest.js';

/** Maps every service (and every plugin name) to the one plugin that provides it. */
export function providerTable(plugins: PluginCandidate[]): Map<string, PluginCandidate> {
  const providers = new Map<string, PluginCandidate>();
  for (const p of plugins) {
    for (const svc of new Set([p.manifest.name, ...Object.keys(p.manifest.provides)])) {
      const other = providers.get(svc);
      if (other) {
        throw pluginError(p.manifest.name, `provides: "${svc}" is already provided by plugin ${other.manifest.name}`);
      }
      providers.set(svc, p);
    }
  }
  return providers;
}

export function orderPlugins(plugins: PluginCandidate[]): PluginCandidate[] {
  const providers = providerTable(plugins);
  const deps = new Map<PluginCandidate, PluginCandidate[]>();
  for (const p of plugins) {
    deps.set(p, Object.entries(p.manifest.requires).map(([svc, range]) => {
      const provider = providers.get(svc);
      if (!provider) throw pluginError(p.manifest.name, `requires: "${svc}" is provided by no loaded plugin`);
      const version = providedVersion(provider.manifest, svc);
      if (!satisfies(version, range)) {
        throw pluginError(p.manifest.name, `requires: service "${svc}" "${range}", but plugin ${provider.manifest.name} provides ${svc} ${version}`);
      }
      return provider;
    }));
  }
  // Among the plugins whose requirements are met, providers others wait for go first: the
  // services behind the API's first answers (events, then system with /_ping) come up right after
  // the API listens instead of behind unrelated plugins that happen to sort earlier.
  const required = new Set([...deps.values()].flat());
  const ordered: PluginCandidate[] = [];
  const done = new Set<PluginCandidate>();
  while (ordered.length < plugins.length) {
    const ready = plugins.filter((p) => !done.has(p) && deps.get(p)!.every((d) => done.has(d)));
    const next = ready.find((p) => required.has(p)) ?? ready[0];
    if (!next) {
      const cycle = findCycle(plugins, deps, done).map((p) => p.manifest.name);
      throw pluginError(cycle[0], `requires: dependency cycle ${cycle.join(' -> ')}`);
    }
    done.add(next);
    ordered.push(next);
  }
  return ordered;
}

function findCycle(plugins: PluginCandidate[], deps: Map<PluginCandidate, PluginCandidate[]>, done: Set<PluginCandidate>): PluginCandidate[] {
  // Every remaining plugin waits on another remaining one, so walking first unmet deps must loop.
  const path: PluginCandidate[] = [];
  let at = plugins.find((p) => !done.has(p))!;
  while (!path.includes(at)) {
    path.push(at);
    at = deps.get(at)!.find((d) => !done.has(d))!;
  }
  return [...path.slice(path.indexOf(at)), at];
}
