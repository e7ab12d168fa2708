// For network tests: a bridge and subnet of the test's own (never docker0, never berth0), the
// host's iptables state to compare before and after, and a scrub that removes whatever a failed
// test left of its own daemon (rules by the daemon's tag, namespaces under its exec root, bridges);
// and what reaches a published port from the host (HTTP on 127.0.0.1, the port proxy processes).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { docker, makeTempDir, startDaemon, type RunningDaemon } from './daemon.js';
import { poll, waitFor } from './poll.js';

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** The host's rules without counters and comments of iptables-save itself. */
export function iptablesState(): string {
  return ['filter', 'nat'].map((t) => sh('iptables-save', ['-t', t]).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.replace(/ \[\d+:\d+\]$/, '')).join('\n')).join('\n');
}

/** Fails the test early if a subnet it wants is routed on this host already. */
export function assertSubnetsFree(prefixes: string[]): void {
  const routes = sh('ip', ['-4', 'route', 'show', 'table', 'all']);
  for (const p of prefixes) if (routes.includes(p)) throw new Error(`subnet ${p} is routed on this host already; pick another for the test`);
}

export function makeBridge(name: string, gatewayCidr: string): void {
  if (existsSync(`/sys/class/net/${name}`)) sh('ip', ['link', 'del', name]);
  sh('ip', ['link', 'add', name, 'type', 'bridge']);
  sh('ip', ['addr', 'add', gatewayCidr, 'dev', name]);
  sh('ip', ['link', 'set', name, 'up']);
}

export function deleteLink(name: string): void {
  if (existsSync(`/sys/class/net/${name}`)) try { sh('ip', ['link', 'del', name]); } catch { /* gone meanwhile */ }
}

export const links = (): string[] => readdirSync('/sys/class/net');

/**
 * For after hooks of tests with networks: the daemon's containers and user networks removed (best
 * effort: the hook goes on whatever fails), the daemon stopped, and what it left scrubbed.
 */
export async function stopNetworkDaemon(d: RunningDaemon): Promise<void> {
  const { removeAllContainers } = await import('./busybox.js');
  await removeAllContainers(d.socket);
  const nets = (await docker(d.socket, ['network', 'ls', '-q', '--filter', 'type=custom'], { expectCode: 'any' })).stdout.trim().split('\n').filter(Boolean);
  for (const n of nets) await docker(d.socket, ['network', 'rm', n], { expectCode: 'any' });
  await d.cleanup();
  scrubDaemon(d.dataRoot, d.execRoot, nets.map((id) => `br-${id.slice(0, 12)}`));
}

/** Removes what a daemon with this data root and exec root left: its tagged rules, port proxies, namespaces. */
export function scrubDaemon(dataRoot: string, execRoot: string, bridges: string[] = []): void {
  const tag = createHash('sha256').update(dataRoot).digest('hex').slice(0, 12);
  scrubIp6(tag);
  for (const t of ['filter', 'nat']) {
    for (const l of sh('iptables-save', ['-t', t]).split('\n')) {
      if (!l.startsWith('-A ') || !l.includes(`berth:${tag}`)) continue;
      try { sh('iptables', ['-w', '-t', t, '-D', ...l.slice(3).replace(/"/g, '').split(' ')]); } catch { /* gone meanwhile */ }
    }
  }
  // Berth's chains and jumps too, once no daemon has a rule left in them.
  const saved = ['filter', 'nat'].map((t) => sh('iptables-save', ['-t', t])).join('\n');
  if (!saved.split('\n').some((l) => l.startsWith('-A BERTH') && l.includes('berth:'))) {
    const jumps: [string, string][] = [['filter', 'FORWARD -j BERTH-FORWARD'], ['nat', 'PREROUTING -m addrtype --dst-type LOCAL -j BERTH'],
      ['nat', 'OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j BERTH'], ['nat', 'POSTROUTING -j BERTH-POSTROUTING']];
    for (const [t, j] of jumps) try { sh('iptables', ['-w', '-t', t, '-D', ...j.split(' ')]); } catch { /* not there */ }
    const chains: [string, string][] = [['filter', 'BERTH-FORWARD'], ['filter', 'BERTH'], ['filter', 'BERTH-ISOLATION-1'], ['filter', 'BERTH-ISOLATION-2'], ['nat', 'BERTH'], ['nat', 'BERTH-POSTROUTING']];
    for (const op of ['-F', '-X']) for (const [t, c] of chains) try { sh('iptables', ['-w', '-t', t, op, c]); } catch { /* not there */ }
  }
  // Port proxy processes the daemon recorded (they outlive it by design), checked by command line.
  const proxies = join(execRoot, 'port-proxies');
  if (existsSync(proxies)) for (const f of readdirSync(proxies).filter((n) => n.endsWith('.json'))) {
    try {
      const { pid, endpoint } = JSON.parse(readFileSync(join(proxies, f), 'utf8')) as { pid: number; endpoint: string };
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (args.includes('--berth-port-proxy') && args.includes(endpoint)) process.kill(pid, 'SIGKILL');
    } catch { /* unreadable, or gone */ }
  }
  const netns = join(execRoot, 'netns');
  if (existsSync(netns)) for (const f of readdirSync(netns)) try { sh('umount', [join(netns, f)]); } catch { /* not mounted */ }
  for (const b of bridges) deleteLink(b);
}

/** Whether nothing listens on this port of 127.0.0.1 (after a container's removal). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** The processes holding the socket that listens on 127.0.0.1:port (TCP), by pid. */
export function portHolders(port: number): number[] {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const line = readFileSync('/proc/net/tcp', 'utf8').split('\n').find((l) => {
    const f = l.trim().split(/\s+/);
    return f[1] === local && f[3] === '0A';
  });
  if (!line) return [];
  const socket = `socket:[${line.trim().split(/\s+/)[9]}]`;
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let fds: string[];
    try { fds = readdirSync(`/proc/${p}/fd`); } catch { continue; }
    if (fds.some((fd) => { try { return readlinkSync(`/proc/${p}/fd/${fd}`) === socket; } catch { return false; } })) out.push(Number(p));
  }
  return out.sort((a, b) => a - b);
}

export { freePort } from './ports.js';

/** The host's IPv6 rules without counters (dual-stack networks' rules go to ip6tables). */
export function ip6tablesState(): string {
  return ['filter', 'nat'].map((t) => sh('ip6tables-save', ['-t', t]).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.replace(/ \[\d+:\d+\]$/, '')).join('\n')).join('\n');
}

/** A daemon's tagged ip6tables rules, and Berth's IPv6 chains once nobody has a rule in them. */
function scrubIp6(tag: string): void {
  let saved: string;
  try { saved = ['filter', 'nat'].map((t) => `*${t}\n${sh('ip6tables-save', ['-t', t])}`).join('\n'); } catch { return; }
  let table = 'filter';
  for (const l of saved.split('\n')) {
    if (l.startsWith('*')) table = l.slice(1).split('\n')[0];
    if (!l.startsWith('-A ') || !l.includes(`berth:${tag}`)) continue;
    try { sh('ip6tables', ['-w', '-t', table, '-D', ...l.slice(3).replace(/"/g, '').split(' ')]); } catch { /* gone meanwhile */ }
  }
  const now = ['filter', 'nat'].map((t) => sh('ip6tables-save', ['-t', t])).join('\n');
  if (now.split('\n').some((l) => l.startsWith('-A BERTH') && l.includes('berth:'))) return;
  const jumps: [string, string][] = [['filter', 'FORWARD -j BERTH-FORWARD'], ['nat', 'PREROUTING -m addrtype --dst-type LOCAL -j BERTH'],
    ['nat', 'OUTPUT ! -d ::1/128 -m addrtype --dst-type LOCAL -j BERTH'], ['nat', 'POSTROUTING -j BERTH-POSTROUTING']];
  for (const [t, j] of jumps) try { sh('ip6tables', ['-w', '-t', t, '-D', ...j.split(' ')]); } catch { /* not there */ }
  const chains: [string, string][] = [['filter', 'BERTH-FORWARD'], ['filter', 'BERTH'], ['filter', 'BERTH-ISOLATION-1'], ['filter', 'BERTH-ISOLATION-2'], ['nat', 'BERTH'], ['nat', 'BERTH-POSTROUTING']];
  for (const op of ['-F', '-X']) for (const [t, c] of chains) try { sh('ip6tables', ['-w', '-t', t, op, c]); } catch { /* not there */ }
}

/** One HTTP GET of http://127.0.0.1:port/ (the body; a timeout or refusal rejects). */
export function httpGet(port: number, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/', timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    }).on('error', reject).on('timeout', function (this: { destroy: () => void }) { this.destroy(); });
  });
}

/** The body of http://127.0.0.1:port/ once something answers there (a container's server may take a moment to listen). */
export function fetchWithin(port: number): Promise<string> {
  return waitFor(`an HTTP answer on 127.0.0.1:${port}`, () => httpGet(port), { maxTries: 50, intervalMs: 100 });
}

/** Pids of the port proxy processes whose command line `matches` (an endpoint, a subnet of the test's). */
export function proxyProcesses(matches: (args: string[]) => boolean): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let args: string[];
    try { args = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0'); } catch { continue; }
    if (args.includes('--berth-port-proxy') && matches(args)) out.push(Number(p));
  }
  return out.sort();
}

/** The proxy processes serving containers of a subnet ("10.123.234."): their targets name the address. */
export const proxiesOfSubnet = (subnet: string) => proxyProcesses((args) => args.some((a) => a.includes(`"containerIp":"${subnet}`)));

/** Waits until the port's only holder is one proxy process of the subnet (the daemon served it until then); its pid. */
export async function handedOff(port: number, subnet: string): Promise<number> {
  const done = await poll(() => {
    const p = proxiesOfSubnet(subnet);
    return p.length === 1 && portHolders(port).join() === p.join() ? p[0] : undefined;
  }, { maxTries: 200, intervalMs: 50 });
  if (done !== undefined) return done;
  return assert.fail(`the port ${port} was not handed to one proxy process: held by ${portHolders(port).join() || 'nobody'}, proxies ${proxiesOfSubnet(subnet).join() || 'none'}`);
}

/** The host port that `docker port NAME 8080` shows on 127.0.0.1. */
export async function publishedPort(socket: string, name: string): Promise<number> {
  const out = (await docker(socket, ['port', name, '8080'])).stdout.trim();
  const m = /^127\.0\.0\.1:(\d+)$/.exec(out);
  assert.ok(m, `docker port ${name} 8080: ${out}`);
  return Number(m[1]);
}

/** The published-port proxy tests' daemon: its own bridge and subnet, restartable with or without live restore. */
export interface ProxyTestBed {
  d: RunningDaemon;
  start(live: boolean): Promise<RunningDaemon>;
}

/**
 * Registers before/after hooks for a file of proxy tests: the bridge made, a daemon started with
 * live restore and busybox imported (serving `page` as /www/index.html); afterwards whatever a failed
 * test left (a killed daemon's running containers, proxies of this subnet) is stopped and removed.
 */
export function proxyTestBed(o: { bridge: string; subnet: string; name: string; page: string }): ProxyTestBed {
  let dir = '';
  let work = '';
  const bed = {
    start: (live: boolean) => startDaemon({ dir, args: ['--bridge', o.bridge, ...(live ? ['--live-restore'] : [])] }),
  } as ProxyTestBed;
  before(async () => {
    assertSubnetsFree([o.subnet]);
    assert.deepEqual(proxiesOfSubnet(o.subnet), [], 'no proxy of this subnet before the test');
    makeBridge(o.bridge, `${o.subnet}1/24`);
    work = makeTempDir(`berth-${o.name}-`);
    dir = makeTempDir(`berth-${o.name}-d-`);
    bed.d = await bed.start(true);
    const { importBusybox } = await import('./busybox.js');
    await importBusybox(bed.d.socket, work, { files: { 'www/index.html': o.page } });
  });
  after(async () => {
    let d = bed.d;
    if (d) {
      // Killed with live restore (a failed test): its containers run on; a start without it stops them.
      if (d.proc.exitCode !== null || d.proc.signalCode !== null) d = await bed.start(false).catch(() => d);
      if (d.proc.exitCode === null && d.proc.signalCode === null) {
        const { removeAllContainers } = await import('./busybox.js');
        await removeAllContainers(d.socket);
      }
      await d.stop();
      scrubDaemon(d.dataRoot, d.execRoot);
    }
    for (const pid of proxiesOfSubnet(o.subnet)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    deleteLink(o.bridge);
    rmSync(work, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });
  return bed;
}
