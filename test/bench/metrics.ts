// The metrics shown in the report, dockerd's reference figures, and Berth's targets.
import { COUNTS } from './counts.js';

const C = COUNTS;

export interface MetricDef {
  key: string;
  label: string;
  unit: string;
  digits: number;
}

export const METRICS: MetricDef[] = [
  { key: 'readyMs', label: `launch to first /_ping 200 (median of ${COUNTS.launches})`, unit: 'ms', digits: 0 },
  { key: 'rssMiB', label: 'idle RSS, whole process tree', unit: 'MiB', digits: 1 },
  { key: 'pssMiB', label: 'idle PSS, whole process tree', unit: 'MiB', digits: 1 },
  { key: 'processes', label: 'processes in the tree', unit: '', digits: 0 },
  { key: 'pingRps', label: '/_ping throughput (16 in flight)', unit: 'req/s', digits: 0 },
  { key: 'versionRps', label: '/version throughput (16 in flight)', unit: 'req/s', digits: 0 },
  { key: 'exitMs', label: `SIGTERM to exit, idle (median of ${COUNTS.launches})`, unit: 'ms', digits: 0 },
  { key: 'buildColdMs', label: 'docker build --no-cache, 10 steps, 2 stages, 8 MB of RUN output, 1,000-file COPY (classic builder, median of 3)', unit: 'ms', digits: 0 },
  { key: 'buildCachedMs', label: 'the same rebuilt, every step from the cache (median of 3)', unit: 'ms', digits: 0 },
  { key: 'loadMBps', label: 'docker load, ~100 MB 5-layer archive (median of 3)', unit: 'MB/s', digits: 1 },
  { key: 'pullMBps', label: `docker pull, ~100 MB 5-layer image, local registry, gzipped layer MB/s (median of ${C.pullRuns})`, unit: 'MB/s', digits: 1 },
  { key: 'pullFloorMBps', label: 'pull floor beside each daemon: curl, 3 at once, | tar -xz onto tmpfs', unit: 'MB/s', digits: 1 },
  { key: 'pullOverFloor', label: 'docker pull time / floor time (medians)', unit: '', digits: 2 },
  { key: 'pullDiskFloorMBps', label: "the floor unpacking onto the daemons' disk instead (reference: what file creation there costs)", unit: 'MB/s', digits: 1 },
  { key: 'pullTmpfsMBps', label: 'docker pull with the data root on a tmpfs (median)', unit: 'MB/s', digits: 1 },
  { key: 'pullTmpfsOverFloor', label: 'docker pull time, data root on tmpfs / floor time (medians)', unit: '', digits: 2 },
  { key: 'shareOverlayMiB', label: 'disk, 10 images on one ~20 MB base, overlay (Berth only)', unit: 'MiB', digits: 1 },
  { key: 'shareVfsMiB', label: 'disk, 10 images on one ~20 MB base, vfs (Berth only)', unit: 'MiB', digits: 1 },
  { key: 'shareVfsOverOverlay', label: 'disk ratio vfs/overlay (Berth only)', unit: '', digits: 2 },
  { key: 'runMs', label: `docker run --rm busybox true (median of ${C.runs}; runc: runc run, \`runc spec\`)`, unit: 'ms', digits: 0 },
  { key: 'runVolumeMs', label: `docker run --rm -v NAME:/data busybox true (median of ${C.runs})`, unit: 'ms', digits: 0 },
  { key: 'copyUpMs', label: 'create copying an image folder of 2,000 files (50 MB) into a new volume (median of 3)', unit: 'ms', digits: 0 },
  { key: 'runBridgeMs', label: `docker run --rm busybox true on the default bridge, own bridge each (median of ${C.runs})`, unit: 'ms', digits: 0 },
  { key: 'runFullSpecMs', label: `runc run true, Berth's full OCI spec (median of ${C.runs})`, unit: 'ms', digits: 0 },
  { key: 'parallelMs', label: `${C.parallel} docker run --rm at once, total (median of ${C.parallelRounds})`, unit: 'ms', digits: 0 },
  { key: 'parallelRps', label: `${C.parallel} docker run --rm at once, runs per second`, unit: 'runs/s', digits: 1 },
  { key: 'createMs', label: `POST create (median of ${C.phaseRounds})`, unit: 'ms', digits: 1 },
  { key: 'startMs', label: `POST start (median of ${C.phaseRounds})`, unit: 'ms', digits: 1 },
  { key: 'stopMs', label: `POST stop?t=1, exits on TERM (median of ${C.phaseRounds})`, unit: 'ms', digits: 1 },
  { key: 'removeMs', label: `DELETE container (median of ${C.phaseRounds})`, unit: 'ms', digits: 1 },
  { key: 'pssRunningMiB', label: `PSS, daemon + monitors, ${C.runningContainers} running containers`, unit: 'MiB', digits: 1 },
  { key: 'processesRunning', label: `daemon + monitor processes, ${C.runningContainers} containers`, unit: '', digits: 0 },
  { key: 'soakOpsPerSec', label: 'soak: 50 clients create/start/wait/rm busybox true, 200 cycles, 100 list readers (2/s each)', unit: 'ops/s', digits: 1 },
  { key: 'soakP99Ms', label: 'soak: p99 of one create/start/wait/rm cycle', unit: 'ms', digits: 0 },
  { key: 'soakErrors', label: 'soak: failed requests', unit: '', digits: 0 },
  { key: 'soakLagP99Ms', label: 'soak: event-loop lag p99 (Berth only; dockerd: n/a)', unit: 'ms', digits: 1 },
  { key: 'soakLagMaxMs', label: 'soak: event-loop lag max (Berth only; dockerd: n/a)', unit: 'ms', digits: 1 },
  { key: 'soakIdleLagP99Ms', label: 'soak: lag p99 of an idle Node process beside the daemon (the machine\'s share)', unit: 'ms', digits: 1 },
  { key: 'soakIdleLagMaxMs', label: 'soak: lag max of an idle Node process beside the daemon (the machine\'s share)', unit: 'ms', digits: 1 },
  { key: 'listRps', label: `GET /containers/json?all=1, ${C.listedContainers} containers (16 in flight)`, unit: 'req/s', digits: 0 },
  { key: 'listRpsNoAuthz', label: `GET /containers/json?all=1, ${C.authzContainers} containers, no authz plugin (median of ${C.authzRounds})`, unit: 'req/s', digits: 0 },
  { key: 'listRpsPolicy', label: `the same, with the authz-policy plugin, 3 rules (Berth only)`, unit: 'req/s', digits: 0 },
  { key: 'listRpsExternal', label: `the same, with a Docker authz plugin, allow-all (Berth only)`, unit: 'req/s', digits: 0 },
  { key: 'listPolicyOverNone', label: `list throughput ratio, authz-policy/no authz (median of ${C.authzRounds} rounds, Berth only)`, unit: '', digits: 2 },
  { key: 'listExternalOverNone', label: `list throughput ratio, Docker authz plugin/no authz (median of ${C.authzRounds} rounds, Berth only)`, unit: '', digits: 2 },
];

/** Used when dockerd is not installed: figures measured earlier on this kind of machine. */
export const DOCKERD_REFERENCE = {
  description: 'dockerd 20.10 with its containerd, measured earlier on this kind of machine; container figures from the issue',
  figures: { readyMs: 210, rssMiB: 143, pssMiB: 100, exitMs: 1000, runMs: 360, listRps: 85, pssRunningMiB: 240, pullOverFloor: 3.8 } as Record<string, number>,
};

export interface Target {
  name: string;
  metric: string;
  /** undefined when it cannot be judged (no dockerd figure to compare with). */
  check: (berth: number, dockerd: number | undefined) => boolean | undefined;
}

export const TARGETS: Target[] = [
  { name: 'ready < 200 ms', metric: 'readyMs', check: (b) => b < 200 },
  { name: "PSS <= half of dockerd's", metric: 'pssMiB', check: (b, d) => (d === undefined ? undefined : b <= d / 2) },
  { name: "/_ping throughput >= dockerd's", metric: 'pingRps', check: (b, d) => (d === undefined ? undefined : b >= d) },
  { name: 'exit < 200 ms', metric: 'exitMs', check: (b) => b < 200 },
  { name: "cold docker build <= 0.8x dockerd's", metric: 'buildColdMs', check: (b, d) => (d === undefined ? undefined : b <= 0.8 * d) },
  { name: "cached docker build <= 0.5x dockerd's", metric: 'buildCachedMs', check: (b, d) => (d === undefined ? undefined : b <= 0.5 * d) },
  { name: "docker load throughput >= dockerd's", metric: 'loadMBps', check: (b, d) => (d === undefined ? undefined : b >= d) },
  { name: "docker pull throughput >= dockerd's", metric: 'pullMBps', check: (b, d) => (d === undefined ? undefined : b >= d) },
  { name: "docker pull time <= 2x the floor's", metric: 'pullOverFloor', check: (b) => b <= 2 },
  { name: "the same, data root on tmpfs like the floor", metric: 'pullTmpfsOverFloor', check: (b) => b <= 2 },
  { name: "docker run --rm <= 0.6x dockerd's", metric: 'runMs', check: (b, d) => (d === undefined ? undefined : b <= 0.6 * d) },
  { name: "docker run --rm -v NAME:/data <= 0.6x dockerd's", metric: 'runVolumeMs', check: (b, d) => (d === undefined ? undefined : b <= 0.6 * d) },
  { name: "copy-up into a new volume no slower than dockerd's", metric: 'copyUpMs', check: (b, d) => (d === undefined ? undefined : b <= d) },
  { name: "docker run --rm on the bridge <= dockerd's", metric: 'runBridgeMs', check: (b, d) => (d === undefined ? undefined : b <= d) },
  { name: "parallel runs/s >= 1.5x dockerd's", metric: 'parallelRps', check: (b, d) => (d === undefined ? undefined : b >= 1.5 * d) },
  { name: "containers/json req/s >= 5x dockerd's", metric: 'listRps', check: (b, d) => (d === undefined ? undefined : b >= 5 * d) },
  { name: 'soak: zero failed requests', metric: 'soakErrors', check: (b) => b === 0 },
  { name: "soak throughput >= dockerd's", metric: 'soakOpsPerSec', check: (b, d) => (d === undefined ? undefined : b >= d) },
  { name: 'soak: event-loop lag max < 50 ms', metric: 'soakLagMaxMs', check: (b) => b < 50 },
  { name: 'in-process policy costs < 10% of throughput', metric: 'listPolicyOverNone', check: (b) => b >= 0.9 },
  { name: `PSS, ${C.runningContainers} containers <= half of dockerd's`, metric: 'pssRunningMiB', check: (b, d) => (d === undefined ? undefined : b <= d / 2) },
];
