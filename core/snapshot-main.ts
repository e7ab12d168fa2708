// The start-up snapshot's entry. bin/bundle.mjs bundles this file, the core and every built-in
// plugin into one script and has node evaluate it at build time into dist/bundle/berthd.blob;
// bin/berthd starts node from that blob, so a start skips compiling and evaluating ~1 MB of
// JavaScript. Nothing evaluated at build time may hold the process's own state (pid, environment,
// time): modules read those when used.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startupSnapshot } from 'node:v8';
import vm from 'node:vm';
import { main, runMain } from './cli.js';

const PRELOADED = Symbol.for('berth.preloadedModules');
const IMPORTER = Symbol.for('berth.importModule');
const VALIDATORS = Symbol.for('berth.precompiledSchemas');
const LOADER_WARNING = 'vm.USE_MAIN_CONTEXT_DEFAULT_LOADER';

/**
 * import() for modules outside the snapshot (third-party plugins), made on first use after the
 * snapshot was deserialized: only then is there a module loader to call. Node 20 calls that loader
 * experimental and says so on stderr when it is first used; Berth's own use of it is not news to
 * an operator, so that one warning is dropped (every other still shows).
 */
function lateImporter(): (url: string) => Promise<unknown> {
  let importer: ((url: string) => Promise<unknown>) | undefined;
  return (url) => {
    if (!importer) {
      const emit = process.emitWarning;
      process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
        if (String(warning).includes(LOADER_WARNING)) return;
        (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
      }) as typeof process.emitWarning;
      importer = new vm.Script('(url) => import(url)', {
        filename: 'berth-late-import.js',
        importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
      }).runInThisContext() as (url: string) => Promise<unknown>;
    }
    return importer(url);
  };
}

/**
 * Checks an empty configuration (berthd --validate) while the snapshot is made, so the functions
 * every start runs first (flags, plugin discovery, manifest and configuration checks) are compiled
 * into it: measured, 4-5 ms less from launch to the first ping. It keeps nothing: the
 * configuration is read and checked, never applied.
 */
async function warmUp(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-snapshot-'));
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    writeFileSync(join(dir, 'daemon.json'), '{}\n');
    const code = await main(['--validate', '--config-file', join(dir, 'daemon.json')]);
    if (code !== 0) throw new Error(`berthd --validate exited ${code}`);
  } finally {
    process.stdout.write = write;
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Called at build time with the built-in plugins' evaluated entry modules, keyed by file path, and
 * the precompiled schema validators, keyed as core/schema.ts looks them up.
 */
export function prepareSnapshot(plugins: Map<string, unknown>, validators: Map<string, unknown>): void {
  const g = globalThis as unknown as Record<symbol, unknown>;
  g[PRELOADED] = plugins;
  g[VALIDATORS] = validators;
  void warmUp();
  startupSnapshot.setDeserializeMainFunction(() => {
    g[IMPORTER] = lateImporter();
    // node --snapshot-blob BLOB -- ARGS: argv is [node, ...ARGS], no script path.
    runMain(process.argv.slice(1));
  });
}
