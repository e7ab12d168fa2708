// The image configuration (the JSON whose sha256 is the image ID), and building one for import.
import { invalid } from '../../core/plugin-api.js';
import { parseHealthcheck } from './healthcheck-change.js';

export interface ContainerConfig {
  Hostname?: string; Domainname?: string; User?: string;
  AttachStdin?: boolean; AttachStdout?: boolean; AttachStderr?: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty?: boolean; OpenStdin?: boolean; StdinOnce?: boolean;
  Env?: string[] | null; Cmd?: string[] | null; Image?: string;
  Volumes?: Record<string, object> | null; WorkingDir?: string; Entrypoint?: string[] | null;
  OnBuild?: string[] | null; Labels?: Record<string, string> | null; StopSignal?: string;
  Healthcheck?: HealthConfig; Shell?: string[] | null;
}

/** HEALTHCHECK / docker run --health-*: durations in nanoseconds, 0 for the default. */
export interface HealthConfig {
  /** [] inherit, ["NONE"] disabled, ["CMD", arg...] exec, ["CMD-SHELL", command] through the shell. */
  Test?: string[] | null;
  Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number;
}

export interface HistoryEntry {
  created?: string; created_by?: string; author?: string; comment?: string; empty_layer?: boolean;
}

export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  author?: string;
  comment?: string;
  created?: string;
  config?: ContainerConfig;
  container?: string;
  container_config?: ContainerConfig;
  docker_version?: string;
  history?: HistoryEntry[];
  rootfs: { type: 'layers'; diff_ids: string[] };
}

export const goArch = (a: string) => ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', s390x: 's390x', ppc64: 'ppc64le' })[a] ?? a;

function parseJsonOrWords(value: string): string[] {
  const v = value.trim();
  if (v.startsWith('[')) {
    try {
      const arr = JSON.parse(v);
      if (Array.isArray(arr) && arr.every((x) => typeof x === 'string')) return arr;
    } catch { /* fall through to shell form */ }
  }
  return ['/bin/sh', '-c', v];
}

function splitKeyValues(rest: string, what: string): [string, string][] {
  const pairs: [string, string][] = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  let m: RegExpExecArray | null;
  let matched = false;
  while ((m = re.exec(rest))) {
    matched = true;
    let v = m[2];
    if (v.startsWith('"')) v = JSON.parse(v);
    else if (v.startsWith("'")) v = v.slice(1, -1);
    pairs.push([m[1], v]);
  }
  if (!matched) {
    const sp = rest.trim().split(/\s+/);
    if (sp.length < 2) throw invalid(`${what} requires at least one argument`);
    pairs.push([sp[0], sp.slice(1).join(' ')]);
  }
  return pairs;
}

/** Applies Dockerfile-style changes (docker import -c) to a container config. */
export function applyChanges(config: ContainerConfig, changes: string[]): ContainerConfig {
  const c: ContainerConfig = { ...config };
  for (const change of changes) {
    const m = /^\s*(\w+)\s+([\s\S]*)$/.exec(change);
    if (!m) throw invalid(`dockerfile parse error: invalid change "${change}"`);
    const [, word, rest] = m;
    switch (word.toUpperCase()) {
      case 'CMD': c.Cmd = parseJsonOrWords(rest); break;
      case 'ENTRYPOINT': c.Entrypoint = parseJsonOrWords(rest); break;
      case 'WORKDIR': c.WorkingDir = rest.trim(); break;
      case 'USER': c.User = rest.trim(); break;
      case 'STOPSIGNAL': c.StopSignal = rest.trim(); break;
      case 'ENV': {
        // By key in a Map (order kept): linear in the entries, however many a client sends.
        const env = new Map((c.Env ?? []).map((e) => [e.split('=')[0], e] as const));
        for (const [k, v] of splitKeyValues(rest, 'ENV')) env.set(k, `${k}=${v}`);
        c.Env = [...env.values()];
        break;
      }
      case 'LABEL': {
        c.Labels = { ...(c.Labels ?? {}) };
        for (const [k, v] of splitKeyValues(rest, 'LABEL')) c.Labels[k] = v;
        break;
      }
      case 'EXPOSE': {
        c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
        for (const p of rest.trim().split(/\s+/)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/.test(p)) throw invalid(`invalid containerPort: ${p}`);
          c.ExposedPorts[p.includes('/') ? p : `${p}/tcp`] = {};
        }
        break;
      }
      case 'VOLUME': {
        c.Volumes = { ...(c.Volumes ?? {}) };
        for (const v of parseJsonOrWords(rest)[0] === '/bin/sh' ? rest.trim().split(/\s+/) : parseJsonOrWords(rest)) c.Volumes[v] = {};
        break;
      }
      case 'HEALTHCHECK': c.Healthcheck = parseHealthcheck(rest); break;
      case 'ONBUILD': c.OnBuild = [...(c.OnBuild ?? []), rest.trim()]; break;
      default:
        throw invalid(`${word} is not a valid change command`);
    }
  }
  return c;
}

export function emptyContainerConfig(): ContainerConfig {
  return {
    Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
    Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null,
    WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null,
  };
}
