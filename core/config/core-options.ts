// The configuration the core itself owns: its daemon.json keys (with dockerd's names) and flags.
import type { JsonSchema } from '../schema.js';
import type { FlagSpec } from './flags.js';

export const DEFAULT_CONFIG_FILE = '/etc/berth/daemon.json';

export const coreSchema: JsonSchema = {
  type: 'object',
  properties: {
    'data-root': { type: 'string', minLength: 1, default: '/var/lib/berth' },
    'exec-root': { type: 'string', minLength: 1, default: '/run/berth' },
    pidfile: { type: 'string', minLength: 1, default: '/run/berth.pid' },
    debug: { type: 'boolean', default: false },
    'log-level': { type: 'string', enum: ['debug', 'info', 'warn', 'error', 'fatal'], default: 'info' },
    'shutdown-timeout': { type: 'integer', minimum: 0, default: 15 },
    'plugin-dirs': { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
    plugins: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
  },
};

/** Keys a SIGHUP may change without a restart. */
export const coreReloadable = ['debug', 'log-level'];

export const coreFlags: FlagSpec[] = [
  { name: 'data-root', key: 'data-root', type: 'string', description: 'Root directory of persistent Berth state (default "/var/lib/berth")' },
  { name: 'exec-root', key: 'exec-root', type: 'string', description: 'Root directory for execution state files (default "/run/berth")' },
  { name: 'pidfile', short: 'p', key: 'pidfile', type: 'string', description: 'Path to use for daemon PID file (default "/run/berth.pid")' },
  { name: 'debug', short: 'D', key: 'debug', type: 'boolean', description: 'Enable debug mode' },
  { name: 'log-level', short: 'l', key: 'log-level', type: 'string', description: 'Set the logging level ("debug"|"info"|"warn"|"error"|"fatal") (default "info")' },
  { name: 'shutdown-timeout', key: 'shutdown-timeout', type: 'integer', description: 'Seconds graceful shutdown may take before the daemon exits (default 15)' },
  { name: 'plugin-dir', key: 'plugin-dirs', type: 'list', description: 'Folder holding a third-party plugin, or plugin folders (repeatable)' },
  { name: 'plugin', key: 'plugins', type: 'list', description: 'npm package name of a third-party plugin (repeatable)' },
  { name: 'config-file', type: 'string', description: `Daemon configuration file (default "${DEFAULT_CONFIG_FILE}")` },
  { name: 'validate', type: 'boolean', description: 'Validate daemon configuration and exit' },
  { name: 'version', short: 'v', type: 'boolean', description: 'Print version information and quit' },
  { name: 'help', short: 'h', type: 'boolean', description: 'Print usage' },
].map((f) => ({ ...f, owner: 'core' }) as FlagSpec);

/** The core's own settings, typed. */
export interface CoreConfig {
  dataRoot: string;
  execRoot: string;
  pidfile: string;
  debug: boolean;
  logLevel: string;
  shutdownTimeout: number;
  pluginDirs: string[];
  plugins: string[];
}

export function coreView(values: Record<string, unknown>): CoreConfig {
  return {
    dataRoot: values['data-root'] as string,
    execRoot: values['exec-root'] as string,
    pidfile: values.pidfile as string,
    debug: values.debug as boolean,
    logLevel: values.debug ? 'debug' : (values['log-level'] as string),
    shutdownTimeout: values['shutdown-timeout'] as number,
    pluginDirs: values['plugin-dirs'] as string[],
    plugins: values.plugins as string[],
  };
}
