// A container's record, as persisted and as inspect shows it; built from a create request
// merged with its image's configuration, as dockerd merges them.
import type { ContainerConfig, HealthConfig } from '../../image-store/index.js';

export interface ContainerState {
  Status: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  /** Only for a container with a healthcheck (health-monitor.ts). */
  Health?: ContainerHealth;
}

export interface HealthLogEntry { Start: string; End: string; ExitCode: number; Output: string }

export interface ContainerHealth {
  Status: 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  /** The last results, oldest first. */
  Log: HealthLogEntry[];
}

export type HostConfig = Record<string, unknown> & {
  Binds?: string[] | null;
  AutoRemove?: boolean;
  RestartPolicy?: { Name: string; MaximumRetryCount: number };
  NetworkMode?: string;
  Privileged?: boolean;
};

export interface Container {
  Id: string;
  Name: string;
  Created: string;
  Path: string;
  Args: string[];
  Config: ContainerConfig & { Image: string };
  HostConfig: HostConfig;
  /** The image ID. */
  Image: string;
  /** The image's top layer (chainID), parent of the read-write layer. */
  ImageTopLayer: string | null;
  State: ContainerState;
  RestartCount: number;
  /** A user stopped or killed it (dockerd's field, persisted, not shown by inspect): unless-stopped stays down. */
  HasBeenManuallyStopped?: boolean;
  Driver: string;
  /**
   * The bind mounts of its last start, as the runtime got them (its /etc/hostname, the network
   * plugin's /etc/hosts and /etc/resolv.conf, -v binds): docker cp reads and writes the files the
   * container sees (dockerd keeps MountPoints). Persisted, not shown by inspect.
   */
  MountPoints?: { source: string; destination: string; readonly: boolean }[];
  Platform: 'linux';
  MountLabel: string;
  ProcessLabel: string;
  AppArmorProfile: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  LogPath: string;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function createdState(): ContainerState {
  return {
    Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
    Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME,
  };
}

/** The create request's Config merged with the image's: the request wins, Env merges by key. */
export function mergeConfig(request: ContainerConfig, image: ContainerConfig | undefined): ContainerConfig {
  const img = image ?? {};
  // By key in a Map (insertion order is the image's, then the request's new keys): linear, where
  // a search per entry froze the daemon for a minute on 20,000 entries.
  const byKey = new Map<string, string>();
  for (const e of [...(img.Env ?? []), ...(request.Env ?? [])]) byKey.set(envKey(e), e);
  const env = [...byKey.values()];
  // As dockerd's merge: a non-empty entrypoint on create drops the image's Cmd; [""] (docker run
  // --entrypoint '') then means no entrypoint at all (mergeAndVerifyConfig).
  const entrypoint = request.Entrypoint;
  const cmdGiven = request.Cmd !== undefined && request.Cmd !== null && request.Cmd.length > 0;
  const ownEntrypoint = entrypoint !== undefined && entrypoint !== null && entrypoint.length > 0;
  const cleared = ownEntrypoint && entrypoint!.length === 1 && entrypoint![0] === '';
  return {
    ...request,
    Env: env.length ? env : null,
    Entrypoint: ownEntrypoint ? (cleared ? null : entrypoint!) : entrypoint == null ? img.Entrypoint ?? null : null,
    Cmd: cmdGiven ? request.Cmd : ownEntrypoint ? null : img.Cmd ?? null,
    WorkingDir: request.WorkingDir || img.WorkingDir || '',
    User: request.User || img.User || '',
    Labels: { ...(img.Labels ?? {}), ...(request.Labels ?? {}) },
    StopSignal: request.StopSignal || img.StopSignal,
    ExposedPorts: request.ExposedPorts ?? img.ExposedPorts ?? null,
    // As dockerd: the image's VOLUME entries and the request's together.
    Volumes: request.Volumes || img.Volumes ? { ...(img.Volumes ?? {}), ...(request.Volumes ?? {}) } : null,
    OnBuild: null,
    Healthcheck: mergeHealthcheck(request.Healthcheck, img.Healthcheck),
  };
}

const envKey = (e: string) => {
  const i = e.indexOf('=');
  return i < 0 ? e : e.slice(0, i);
};

/** As dockerd: the image's healthcheck fills what the request leaves unset (empty Test, zero durations). */
function mergeHealthcheck(request: HealthConfig | undefined, image: HealthConfig | undefined): HealthConfig | undefined {
  if (!request) return image;
  if (!image) return request;
  return {
    ...request,
    Test: request.Test?.length ? request.Test : image.Test,
    Interval: request.Interval || image.Interval,
    Timeout: request.Timeout || image.Timeout,
    StartPeriod: request.StartPeriod || image.StartPeriod,
    StartInterval: request.StartInterval || image.StartInterval,
    Retries: request.Retries || image.Retries,
  };
}

/** Path and Args as dockerd splits the command: entrypoint + cmd, first word is the path. */
export function command(config: ContainerConfig): { Path: string; Args: string[] } {
  const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  return { Path: argv[0] ?? '', Args: argv.slice(1) };
}
