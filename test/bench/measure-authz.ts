// Issue 7: what the authorization stage costs. GET /containers/json?all=1 throughput (as
// measure-throughput.ts) on Berth with no authz plugin, with the in-process policy plugin and a
// small realistic policy, and with a Docker-protocol authz plugin (an allow-all server in its own
// process, asked twice per request: AuthZReq and AuthZRes). dockerd, which has no in-process
// policy, is measured without authz only, for context.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, type Benchmark, type Figures } from './benchmark.js';
import { makeContainers, withBusybox } from './busybox-daemon.js';
import { COUNTS } from './counts.js';
import { berthd, dockerd, scratchDir, trackClient, withArgs, type Daemon, type DaemonSpec } from './daemons.js';
import { measurePath } from './measure-throughput.js';

const PLUGIN = fileURLToPath(new URL('./authz-allow-all-plugin.js', import.meta.url));
const PLUGIN_NAME = 'benchallow';
const LIST = '/containers/json?all=1';

/** What an operator would write first: no privileged containers, no host root or API socket binds. */
const POLICY = {
  default: 'allow',
  rules: [
    { name: 'no-privileged', action: 'deny', message: 'privileged containers are not allowed',
      methods: ['POST'], paths: ['/containers/create', '/containers/*/exec'], body: { privileged: true } },
    { name: 'no-host-binds', action: 'deny', message: 'binding / or the daemon socket is not allowed',
      body: { binds: ['/', '$DAEMON_SOCKET'] } },
    { name: 'no-sys-admin', action: 'deny', body: { capAdd: ['SYS_ADMIN'] } },
  ],
};

/** Runs fn on a fresh daemon holding COUNTS.authzContainers created containers. */
function withContainers<T>(spec: DaemonSpec, fn: (d: Daemon) => Promise<T>): Promise<T> {
  return withBusybox(spec, async (d) => {
    await makeContainers(d, COUNTS.authzContainers, ['true'], false);
    return fn(d);
  });
}

/** Runs fn while the allow-all plugin listens on dir/NAME.sock; stops it after (cleanupAll kills it if cut short). */
async function withAllowAllPlugin<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const p = spawn(process.execPath, [PLUGIN, join(dir, `${PLUGIN_NAME}.sock`)], { stdio: ['pipe', 'pipe', 'pipe'] });
  trackClient(p);
  const exited = new Promise<void>((resolve) => { p.once('exit', () => resolve()); p.once('error', () => resolve()); });
  try {
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`authz plugin not ready within 10 s: ${out}`)), 10_000);
      const seen = (c: Buffer) => { out += c.toString(); if (out.includes('ready\n')) { clearTimeout(timer); resolve(); } };
      p.stdout!.on('data', seen);
      p.stderr!.on('data', seen);
      void exited.then(() => { clearTimeout(timer); reject(new Error(`authz plugin exited: ${out}`)); });
    });
    return await fn();
  } finally {
    p.stdin!.end();
    const timer = setTimeout(() => p.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * The three daemons run side by side and are measured in turn, round after round, starting with
 * the next one each round: on a busy machine the load drifts, and each round's ratios compare
 * figures taken seconds apart.
 */
async function measureRounds(sockets: Record<string, string>): Promise<Figures> {
  const rps: Record<string, number[]> = { none: [], policy: [], external: [] };
  const ratios: Record<string, number[]> = { policy: [], external: [] };
  for (let round = 0; round < COUNTS.authzRounds; round++) {
    const now: Record<string, number> = {};
    const configs = Object.keys(sockets);
    for (const config of [...configs.slice(round % 3), ...configs.slice(0, round % 3)]) {
      rps[config].push((now[config] = await measurePath(sockets[config], LIST)));
    }
    for (const config of ['policy', 'external']) ratios[config].push(now[config] / now.none);
  }
  return {
    listRpsNoAuthz: median(rps.none), listRpsPolicy: median(rps.policy), listRpsExternal: median(rps.external),
    listPolicyOverNone: median(ratios.policy), listExternalOverNone: median(ratios.external),
  };
}

export const authz: Benchmark = {
  name: 'authz',
  metrics: ['listRpsNoAuthz', 'listRpsPolicy', 'listRpsExternal', 'listPolicyOverNone', 'listExternalOverNone'],
  only: [berthd.name, dockerd.name],
  run: async (spec) => {
    if (spec.name !== berthd.name) {
      return withContainers(spec, async (d) => {
        const rps: number[] = [];
        for (let round = 0; round < COUNTS.authzRounds; round++) rps.push(await measurePath(d.socket, LIST));
        return { listRpsNoAuthz: median(rps) };
      });
    }
    const dir = scratchDir('authz');
    const policyFile = join(dir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify(POLICY));
    const policySpec = withArgs(spec, `${spec.label}+policy`, '--authorization-plugin', 'authz-policy', '--authz-policy-file', policyFile);
    const externalSpec = withArgs(spec, `${spec.label}+plugin`, '--authorization-plugin', PLUGIN_NAME, '--authz-plugin-dir', dir);
    return withContainers(spec, (none) => withContainers(policySpec, (policy) => withAllowAllPlugin(dir, () =>
      withContainers(externalSpec, (external) => measureRounds({ none: none.socket, policy: policy.socket, external: external.socket })))));
  },
};
