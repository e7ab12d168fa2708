// berthd's command line: parse flags and daemon.json, then run the daemon, validate, list plugins
// or print help. main.ts runs it from a plain start; the start-up snapshot (bin/bundle.mjs) runs
// it from the snapshot's main function.
import { fileURLToPath } from 'node:url';
import { coreFlags } from './config/core-options.js';
import { formatHelp, parseFlags } from './config/flags.js';
import { loadConfiguration, type LoadedConfig } from './config/load-config.js';
import { Daemon } from './daemon.js';
import { messageOf } from './errors.js';
import { checkHost } from './lifecycle/host-check.js';
import { BERTH_COMMIT, BERTH_VERSION } from './version.js';

const builtinDir = fileURLToPath(new URL('../plugins', import.meta.url));
const installDir = fileURLToPath(new URL('../..', import.meta.url));

function pluginTable(config: LoadedConfig): string {
  const rows = config.plugins.map((p) => [p.manifest.name, p.manifest.version, p.manifest.kind, Object.keys(p.manifest.provides).join(',') || '-', p.source]);
  const head = ['NAME', 'VERSION', 'KIND', 'PROVIDES', 'SOURCE'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('   ').trimEnd()).join('\n') + '\n';
}

export async function main(argv: string[]): Promise<number> {
  const pre = parseFlags(argv, coreFlags, true).values;
  if (pre.version) {
    process.stdout.write(`Berth version ${BERTH_VERSION}, build ${BERTH_COMMIT}\n`);
    return 0;
  }
  const config = await loadConfiguration(argv, { builtinDir, resolveFrom: installDir }).catch((err) => {
    // --help must work even when the configuration is broken: fall back to the core's flags.
    if (pre.help) return undefined;
    throw err;
  });
  if (pre.help) {
    process.stdout.write(formatHelp(config?.flags ?? coreFlags));
    return 0;
  }
  if (!config) return 1;
  if (config.positionals[0] === 'plugins') {
    process.stdout.write(pluginTable(config));
    return 0;
  }
  if (config.positionals.length) throw new Error(`unknown command "${config.positionals[0]}"\nSee 'berthd --help'.`);
  if (config.flagValues.validate) {
    process.stdout.write('configuration OK\n');
    return 0;
  }
  checkHost();
  const daemon = new Daemon(config);
  await daemon.start();
  return -1; // keep running: signals decide the exit code
}

/** Runs berthd with its arguments (without node's and the script's); sets the exit code. */
export function runMain(argv: string[]): void {
  main(argv).then(
    (code) => { if (code >= 0) process.exitCode = code; },
    (err) => {
      process.stderr.write(`berthd: ${messageOf(err)}\n`);
      process.exitCode = 1;
    },
  );
}
