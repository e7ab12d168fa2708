// Issue 7: what the authorization stage costs. GET /containers/json?all=1 throughput (as
// measure-throughput.ts) on Berth with no authz plugin, with the in-process policy plugin and a
// small realistic policy, and with a Docker-protocol authz plugin (an allow-all server in its own
// process, asked twice per request: AuthZReq and AuthZRes). Berth only: dockerd has no in-process
// policy to compare with.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PartialFailure, type Benchmark, type Figures } from './benchmark.js';
import { makeContainers, withBusybox } from './busybox-daemon.js';
import { COUNTS } from './counts.js';
import { berthd, scratchDir, trackClient, withArgs, type DaemonSpec } from './daemons.js';
import { measurePath } from './measure-throughput.js';

const PLUGIN = fileURLToPath(new URL('./authz-allow-all-plugin.js', import.meta.url));
const PLUGIN_NAME = 'benchallow';

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

/** Throughput of the list on a fresh daemon holding COUNTS.authzContainers created containers. */
function listRps(spec: DaemonSpec): Promise<number> {
  return withBusybox(spec, async (d) => {
    await makeContainers(d, COUNTS.authzContainers, ['true'], false);
    return measurePath(d.socket, '/containers/json?all=1');
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

export const authz: Benchmark = {
  name: 'authz',
  metrics: ['listRpsNoAuthz', 'listRpsPolicy', 'listRpsExternal', 'listPolicyOverNone', 'listExternalOverNone'],
  only: [berthd.name],
  run: async (spec) => {
    const dir = scratchDir('authz');
    const policyFile = join(dir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify(POLICY));
    const figures: Figures = {};
    const errors: string[] = [];
    const measure = async (key: string, fn: () => Promise<number>) => {
      try {
        figures[key] = await fn();
      } catch (err) {
        errors.push(`${key}: ${(err as Error).message}`);
      }
    };
    await measure('listRpsNoAuthz', () => listRps(spec));
    await measure('listRpsPolicy', () => listRps(withArgs(spec, `${spec.label}+policy`,
      '--authorization-plugin', 'authz-policy', '--authz-policy-file', policyFile)));
    await measure('listRpsExternal', () => withAllowAllPlugin(dir, () => listRps(withArgs(spec, `${spec.label}+plugin`,
      '--authorization-plugin', PLUGIN_NAME, '--authz-plugin-dir', dir))));
    const none = figures.listRpsNoAuthz;
    if (none) {
      if (figures.listRpsPolicy !== undefined) figures.listPolicyOverNone = figures.listRpsPolicy / none;
      if (figures.listRpsExternal !== undefined) figures.listExternalOverNone = figures.listRpsExternal / none;
    }
    if (errors.length) throw new PartialFailure(errors.join('\n'), figures);
    return figures;
  },
};
