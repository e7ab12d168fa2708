// A container's /etc/hosts and /etc/resolv.conf, written as dockerd writes them. Files are
// rewritten in place (never renamed over): they are bind-mounted into the running container.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const HOSTS_HEAD = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

export interface HostsInput {
  hostname: string;
  /** The container's own address on its primary network, if it has one. */
  ip?: string;
  /** Its IPv6 address there, on a dual-stack network. */
  ip6?: string;
  /** --add-host entries, "name:ip" (host-gateway already replaced). */
  extraHosts: string[];
  /** Peers on the container's user-defined networks: address and the names they answer to. */
  peers: { ip: string; names: string[] }[];
}

export function hostsContent(h: HostsInput): string {
  const lines = [...HOSTS_HEAD];
  for (const e of h.extraHosts) {
    const i = e.indexOf(':');
    lines.push(`${e.slice(i + 1)}\t${e.slice(0, i)}`);
  }
  if (h.ip) lines.push(`${h.ip}\t${h.hostname}`);
  if (h.ip6) lines.push(`${h.ip6}\t${h.hostname}`);
  for (const p of h.peers) lines.push(`${p.ip}\t${p.names.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

export interface ResolvInput { dns: string[]; search: string[]; options: string[] }

const LOOPBACK = /^(127\.|::1$)/;

/** The host's resolv.conf with what the container asked for. The host's loopback resolvers cannot
 * be reached from the container's namespace, so they are dropped and Google's are the fallback;
 * servers given with --dns (or the daemon's dns) are written as given (dockerd). */
export async function resolvConfContent(r: ResolvInput, hostFile = '/etc/resolv.conf'): Promise<string> {
  const host = await readFile(hostFile, 'utf8').catch(() => '');
  const lines = host.split('\n').map((l) => l.trim());
  const field = (key: string) => lines.filter((l) => l.startsWith(`${key} `) || l.startsWith(`${key}\t`)).map((l) => l.slice(key.length).trim());
  const servers = r.dns.length ? r.dns : field('nameserver').filter((s) => !LOOPBACK.test(s));
  const search = r.search.length ? r.search : field('search').flatMap((s) => s.split(/\s+/));
  const options = r.options.length ? r.options : field('options').flatMap((s) => s.split(/\s+/));
  const out: string[] = [];
  if (search.length && !(search.length === 1 && search[0] === '.')) out.push(`search ${search.join(' ')}`);
  if (servers.length) out.push(...servers.map((s) => `nameserver ${s}`));
  else out.push('nameserver 8.8.8.8', 'nameserver 8.8.4.4');
  if (options.length) out.push(`options ${options.join(' ')}`);
  return `${out.join('\n')}\n`;
}

export async function writeInPlace(path: string, content: string): Promise<void> {
  await writeFile(path, content);
}

/** With the embedded resolver (user-defined networks): 127.0.0.11, the search domains and options
 * the container would get, ndots:0 first as dockerd writes it; the real servers become upstreams. */
export async function embeddedResolvConf(r: ResolvInput, hostFile = '/etc/resolv.conf'): Promise<{ content: string; upstream: string[] }> {
  const host = await readFile(hostFile, 'utf8').catch(() => '');
  const lines = host.split('\n').map((l) => l.trim());
  const field = (key: string) => lines.filter((l) => l.startsWith(`${key} `) || l.startsWith(`${key}\t`)).map((l) => l.slice(key.length).trim());
  // Upstreams are asked from the daemon's namespace: the host's loopback resolvers work there.
  const upstream = r.dns.length ? r.dns : field('nameserver');
  const search = r.search.length ? r.search : field('search').flatMap((s) => s.split(/\s+/));
  const options = ['ndots:0', ...(r.options.length ? r.options : field('options').flatMap((s) => s.split(/\s+/))).filter((o) => !o.startsWith('ndots:'))];
  const out = [...(search.length && !(search.length === 1 && search[0] === '.') ? [`search ${search.join(' ')}`] : []), 'nameserver 127.0.0.11', `options ${options.join(' ')}`];
  return { content: `${out.join('\n')}\n`, upstream };
}

/** The container's hosts and resolv.conf in its folder, made if the network mode wrote none (a
 * host file that could not be copied): the runtime binds both. */
export async function ensureContainerFiles(dir: string, hostname: string): Promise<{ hosts: string; resolvConf: string }> {
  const files = { hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf') };
  await writeFile(files.hosts, hostsContent({ hostname, extraHosts: [], peers: [] }), { flag: 'wx' }).catch(ignoreExisting);
  await writeFile(files.resolvConf, '', { flag: 'wx' }).catch(ignoreExisting);
  return files;
}

function ignoreExisting(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EEXIST') throw err;
}
