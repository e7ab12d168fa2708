// A stage's state while it is built, as dockerd's dispatchState: the image so far, the config the
// next image gets, the ARGs declared in the stage and the values they have.
import type { ContainerConfig } from '../image-store/index.js';

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** Proxy variables dockerd allows as build args without an ARG, kept out of the history. */
export const PREDEFINED_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);

export interface StageState {
  name?: string;
  imageId: string;
  runConfig: ContainerConfig;
  /** ARGs declared in this stage (in order) with their values in effect (undefined: no value). */
  args: Map<string, string | undefined>;
  /** CMD given in this stage (an ENTRYPOINT then leaves it). */
  cmdSet: boolean;
  author?: string;
}

export const envKey = (e: string) => (e.includes('=') ? e.slice(0, e.indexOf('=')) : e);

export function setEnv(config: ContainerConfig, key: string, value: string): void {
  const env = (config.Env ?? []).filter((e) => envKey(e) !== key);
  const at = (config.Env ?? []).findIndex((e) => envKey(e) === key);
  const entry = `${key}=${value}`;
  if (at >= 0) env.splice(at, 0, entry);
  else env.push(entry);
  config.Env = env;
}

/** The variables words are expanded with: the stage's ARG values, then its ENV over them. */
export function expansionEnv(s: StageState): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of s.args) if (v !== undefined) out[k] = v;
  for (const e of s.runConfig.Env ?? []) out[envKey(e)] = e.slice(envKey(e).length + 1);
  return out;
}

/** dockerd's FilterAllowed: the build args in effect for RUN (declared, with a value, not shadowed by ENV). */
export function runBuildArgs(s: StageState, given: Record<string, string | null>): { env: string[]; history: string[] } {
  const envKeys = new Set((s.runConfig.Env ?? []).map(envKey));
  const env: string[] = [];
  const history: string[] = [];
  for (const [k, v] of s.args) {
    if (v === undefined || envKeys.has(k)) continue;
    env.push(`${k}=${v}`);
    history.push(`${k}=${v}`);
  }
  for (const [k, v] of Object.entries(given)) {
    if (!PREDEFINED_ARGS.has(k) || s.args.has(k) || envKeys.has(k) || v === null) continue;
    env.push(`${k}=${v}`);
  }
  history.sort();
  return { env, history };
}
