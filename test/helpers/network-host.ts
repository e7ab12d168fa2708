// What the network-driver conformance suite sees of the host: links and iptables rules, watched
// around every driver call so that what a driver made can be told from what parallel tests make;
// and what it sees inside a namespace file (an interface, its routes, a ping).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Runs a host tool, bounded: the suite never waits on a hung command. */
export async function sh(cmd: string, args: string[], timeout = 10_000): Promise<string> {
  return (await exec(cmd, args, { encoding: 'utf8', timeout })).stdout;
}

export const inNs = (ns: string, args: string[], timeout?: number) => sh('nsenter', [`--net=${ns}`, ...args], timeout);

// ---------------------------------------------------------------------------------------------
// Host state.

export interface HostState {
  /** "ifindex:name" → the link's `ip -o link` line followed by its IPv4 addresses. */
  links: Map<string, string>;
  /** iptables-save lines of filter and nat ("nat -A CHAIN …", "filter :CHAIN"), counters dropped. */
  rules: Set<string>;
}

/** Every rule line of filter and nat, duplicates kept (a driver adding a rule twice shows here). */
export async function ruleLines(): Promise<string[]> {
  const out: string[] = [];
  for (const table of ['filter', 'nat']) {
    for (const l of (await sh('iptables-save', ['-t', table])).split('\n')) {
      if (l.startsWith('-A ')) out.push(`${table} ${l}`);
      else if (l.startsWith(':')) out.push(`${table} ${l.split(' ')[0]}`);
    }
  }
  return out;
}

export async function hostState(): Promise<HostState> {
  const links = new Map<string, string>();
  const addrs = new Map<string, string[]>();
  for (const l of (await sh('ip', ['-o', '-4', 'addr'])).split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet (\S+)/.exec(l);
    if (m) addrs.set(m[1], [...(addrs.get(m[1]) ?? []), m[2]]);
  }
  for (const l of (await sh('ip', ['-o', 'link'])).split('\n')) {
    const m = /^(\d+): ([^:@\s]+)/.exec(l);
    if (m) links.set(`${m[1]}:${m[2]}`, `${l} ${(addrs.get(m[2]) ?? []).join(' ')}`);
  }
  return { links, rules: new Set(await ruleLines()) };
}

export const linkName = (key: string) => key.slice(key.indexOf(':') + 1);
/** "nat -A BERTH -d …" → { table: 'nat', chain: 'BERTH', target: 'DNAT' }. */
export function parseRule(line: string): { table: string; chain: string; target?: string } {
  const [table, , chain] = line.split(' ');
  return { table, chain, target: / -j (\S+)/.exec(line)?.[1] };
}

/**
 * Watches the host around driver calls. A link or rule that appeared during a call is the
 * driver's; `markers` (subnets, names derived from the suite's IDs, published ports) single out
 * what belongs to this suite among what parallel tests change meanwhile.
 */
export class HostWatch {
  readonly baseline: HostState;
  readonly linksMade = new Map<string, string>();
  readonly rulesMade = new Set<string>();
  readonly markers = new Set<string>();
  /** What the last call made. */
  last: { links: string[]; rules: string[] } = { links: [], rules: [] };

  constructor(baseline: HostState) {
    this.baseline = baseline;
  }

  ours(text: string): boolean {
    for (const m of this.markers) if (text.includes(m)) return true;
    return false;
  }

  async around<T>(fn: () => Promise<T>): Promise<T> {
    const before = await hostState();
    try {
      return await fn();
    } finally {
      const after = await hostState();
      const links = [...after.links.keys()].filter((k) => !before.links.has(k));
      const rules = [...after.rules].filter((r) => !before.rules.has(r));
      for (const k of links) {
        this.linksMade.set(k, after.links.get(k)!);
        // Names the driver derived from the suite's IDs mark its rules too (a bridge in "-i br-…").
        if (this.ours(after.links.get(k)!)) this.markers.add(linkName(k));
      }
      for (const r of rules) this.rulesMade.add(r);
      this.last = { links: links.map(linkName), rules: rules.filter((r) => this.ours(r)) };
    }
  }

  /** What this suite's driver calls made that is still on the host: links (those carrying a
   * marker, and the others apart: maybe a parallel test's) and marked rules. */
  /** The rules carrying a marker now, sorted, duplicates kept. */
  async markedRules(): Promise<string[]> {
    return (await ruleLines()).filter((r) => r.includes(' -A ') && this.ours(r)).sort();
  }

  async leftovers(): Promise<{ links: string[]; unmarkedLinks: string[]; rules: string[] }> {
    const now = await hostState();
    const still = [...this.linksMade.keys()].filter((k) => now.links.has(k));
    return {
      links: still.filter((k) => this.ours(now.links.get(k)!)).map(linkName),
      unmarkedLinks: still.filter((k) => !this.ours(now.links.get(k)!)).map(linkName),
      rules: [...now.rules].filter((r) => r.includes(' -A ') && !this.baseline.rules.has(r) && this.ours(r)),
    };
  }

  /** Last resort after a failed test: deletes the marked links and rules the driver left. */
  async sweep(): Promise<void> {
    const left = await this.leftovers();
    for (const r of left.rules) {
      const [table, , ...rest] = r.split(' ');
      await sh('iptables', ['-w', '-t', table, '-D', ...rest.join(' ').replace(/"/g, '').split(' ')]).catch(() => undefined);
    }
    for (const l of left.links) await sh('ip', ['link', 'del', l]).catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Inside a namespace.

export interface NsInterface { mtu: number; mac: string; up: boolean; inet: string[] }

/** An interface inside the namespace, or null when there is none of that name. */
export async function nsInterface(ns: string, ifName: string): Promise<NsInterface | null> {
  const link = await inNs(ns, ['ip', '-o', 'link', 'show', 'dev', ifName]).catch(() => '');
  if (!link) return null;
  const inet = (await inNs(ns, ['ip', '-o', '-4', 'addr', 'show', 'dev', ifName])).split('\n').map((l) => /inet (\S+)/.exec(l)?.[1]).filter((a): a is string => !!a);
  return {
    mtu: Number(/ mtu (\d+)/.exec(link)?.[1]),
    mac: /link\/ether (\S+)/.exec(link)?.[1] ?? '',
    up: /<[^>]*\bUP\b[^>]*>/.test(link),
    inet,
  };
}

/** The namespace's links but loopback. */
export async function nsLinks(ns: string): Promise<string[]> {
  return (await inNs(ns, ['ip', '-o', 'link'])).split('\n').map((l) => /^\d+: ([^:@\s]+)/.exec(l)?.[1]).filter((n): n is string => !!n && n !== 'lo');
}

export async function defaultRoutes(ns: string): Promise<string[]> {
  return (await inNs(ns, ['ip', '-4', 'route', 'show', 'default'])).split('\n').filter(Boolean).map((l) => l.trim());
}

/** What still holds the network namespaces with these inodes: a process inside, or a mount of
 * it (a driver's helper left running, a bind mount of its own); empty when they are destroyed. */
export async function namespaceHolders(inodes: bigint[]): Promise<string[]> {
  const ids = new Set(inodes.map((i) => `net:[${i}]`));
  const out: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const ns = await readlink(`/proc/${pid}/ns/net`).catch(() => '');
    if (ids.has(ns)) out.push(`process ${pid} (${(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ').trim()}) is inside ${ns}`);
  }
  for (const l of (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    const f = l.split(' ');
    if (ids.has(f[3])) out.push(`${f[3]} is mounted on ${f[4]}`);
  }
  return out;
}

/** One bounded echo request from inside the namespace (busybox ping: no iputils here), up to
 * three tries so a port still settling on a bridge does not fail the check. */
export async function pings(ns: string, ip: string): Promise<boolean> {
  for (let i = 0; i < 3; i++) {
    if (await inNs(ns, ['busybox', 'ping', '-c', '1', '-W', '1', ip], 5_000).then(() => true, () => false)) return true;
  }
  return false;
}

/** A TCP echo server inside the namespace (node run there by nsenter): stop() kills it by its pid. */
export async function echoServer(ns: string, port: number): Promise<{ stop: () => Promise<void> }> {
  const script = `require('net').createServer((s) => s.pipe(s)).listen(${port}, '0.0.0.0', () => console.log('ready'))`;
  const child: ChildProcess = spawn('nsenter', [`--net=${ns}`, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Resolves once it is gone, so that its namespace is no longer held.
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    await exited;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('echo server in the namespace did not start')), 10_000);
      child.stdout!.on('data', (b: Buffer) => { if (b.toString().includes('ready')) { clearTimeout(timer); resolve(); } });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`echo server exited (${code})`)); });
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { stop };
}

/** Sends a line to host:port and resolves with what comes back before the 5 s deadline. */
export function echo(host: string, port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, host);
    let got = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no echo from ${host}:${port} in 5 s (got "${got}")`)); }, 5_000);
    sock.on('data', (b) => {
      got += b.toString();
      if (got.includes(text)) { clearTimeout(timer); sock.destroy(); resolve(got); }
    });
    sock.on('error', (err) => { clearTimeout(timer); reject(err); });
    sock.on('connect', () => sock.write(text));
  });
}
