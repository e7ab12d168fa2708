// A daemon inside the test's own process (tsc's core and built-in plugins, no API traffic needed),
// for what only the engine shows: the registered jobs, payload checks. Its folders are under dir.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfiguration } from '../../core/config/load-config.js';
import { Daemon } from '../../core/daemon.js';
import { REPO } from './daemon-process.js';

/** Started; the caller shuts it down (daemon.shutdown()). */
export async function startInProcessDaemon(dir: string): Promise<Daemon> {
  writeFileSync(join(dir, 'daemon.json'), '{}');
  const config = await loadConfiguration([
    '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '-p', join(dir, 'berth.pid'),
    '-H', `unix://${join(dir, 'berth.sock')}`, '--config-file', join(dir, 'daemon.json'), '--bridge', 'none', '--log-level', 'fatal',
  ], { builtinDir: fileURLToPath(new URL('../../plugins', import.meta.url)), resolveFrom: REPO });
  const daemon = new Daemon(config);
  await daemon.start();
  return daemon;
}
