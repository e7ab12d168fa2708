// Finds an out-of-process Docker plugin (authz, volume …) by name, as dockerd's pkg/plugins does:
// a unix socket NAME.sock (or NAME/NAME.sock), else a spec file NAME.spec (one URL) or NAME.json
// ({Addr, TLSConfig}), in the given folders in order. Only reads those folders.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface PluginTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecureSkipVerify: boolean;
}

export type PluginAddress =
  | { kind: 'unix'; path: string }
  | { kind: 'tcp'; host: string; port: number; tls?: PluginTls };

/** No socket or spec file of that name: the plugin is not installed (or not started yet). */
export class PluginNotFoundError extends Error {
  constructor(readonly plugin: string, dirs: readonly string[]) {
    super(`plugin not found: no ${plugin}.sock, ${plugin}.spec or ${plugin}.json in ${dirs.join(', ')}`);
  }
}

/** What a plugin may be called (a file name in the plugin folders, nothing more). */
export const PLUGIN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const isSocket = (p: string) => stat(p).then((s) => s.isSocket(), () => false);

export function parseAddress(url: string, where: string, tls?: PluginTls): PluginAddress {
  const u = url.trim();
  if (u.startsWith('unix://')) return { kind: 'unix', path: u.slice('unix://'.length) };
  const m = /^(tcp|http|https):\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(u);
  if (!m) throw new Error(`${where}: unsupported plugin address ${JSON.stringify(u)} (expected unix:///path or tcp://host:port)`);
  return { kind: 'tcp', host: m[2].replace(/^\[|\]$/g, ''), port: Number(m[3]), ...(tls ? { tls } : m[1] === 'https' ? { tls: { insecureSkipVerify: false } } : {}) };
}

async function readTls(cfg: Record<string, unknown> | undefined, where: string): Promise<PluginTls | undefined> {
  if (!cfg) return undefined;
  const file = async (k: string) => {
    const p = cfg[k];
    if (typeof p !== 'string' || p === '') return undefined;
    try { return await readFile(p); } catch (err) { throw new Error(`${where}: TLSConfig.${k} ${p}: ${(err as Error).message}`); }
  };
  return { ca: await file('CAFile'), cert: await file('CertFile'), key: await file('KeyFile'), insecureSkipVerify: cfg.InsecureSkipVerify === true };
}

/** The plugin's address, or an error saying where it was looked for. */
export async function discoverPlugin(name: string, dirs: readonly string[]): Promise<PluginAddress> {
  if (!PLUGIN_NAME.test(name)) throw new Error(`invalid plugin name ${JSON.stringify(name)}`);
  for (const dir of dirs) {
    for (const p of [join(dir, `${name}.sock`), join(dir, name, `${name}.sock`)]) {
      if (await isSocket(p)) return { kind: 'unix', path: p };
    }
  }
  for (const dir of dirs) {
    const spec = join(dir, `${name}.spec`);
    const text = await readFile(spec, 'utf8').catch(() => undefined);
    if (text !== undefined) return parseAddress(text, spec);
    const json = join(dir, `${name}.json`);
    const raw = await readFile(json, 'utf8').catch(() => undefined);
    if (raw !== undefined) {
      let doc: { Addr?: unknown; TLSConfig?: Record<string, unknown> };
      try { doc = JSON.parse(raw); } catch (err) { throw new Error(`${json}: ${(err as Error).message}`); }
      if (typeof doc.Addr !== 'string') throw new Error(`${json}: Addr: must be a string`);
      return parseAddress(doc.Addr, json, await readTls(doc.TLSConfig, json));
    }
  }
  throw new PluginNotFoundError(name, dirs);
}
