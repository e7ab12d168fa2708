// The port proxy process (dockerd's docker-proxy): one per container with published ports, started
// by the bridge driver detached in a session of its own, so that the ports keep answering while
// the daemon is down (kill -9, an upgrade with --live-restore) and a restarted daemon adopts it.
//
//   node proxy-main.js --berth-port-proxy <endpoint-id> '<JSON ProxyTarget[]>'
//
// The daemon has bound every host port already and serves them until this process does: it
// hands over the listening sockets as fds 3, 4, … (one a target, in order). This process serves
// them and reports on stdout one JSON line, {"ports": [...]} or {"error": "..."}; then waits for
// "ok" on stdin — the daemon has recorded it — before it stays for good: if stdin closes first
// (the daemon died or gave up), it exits and holds nothing. SIGTERM (or SIGKILL) ends it; the
// kernel closes its sockets.
import { PortProxies, type ProxyTarget } from './port-proxy.js';

export const PROXY_FLAG = '--berth-port-proxy';
/** The first handed-over socket's descriptor. */
export const FIRST_FD = 3;

async function main(): Promise<void> {
  const i = process.argv.indexOf(PROXY_FLAG);
  const targets = JSON.parse(process.argv[i + 2] ?? '[]') as ProxyTarget[];
  const proxies = new PortProxies();
  const ports: number[] = [];
  let input = '';
  let adopted = false;
  // Watched from the start: a daemon that died before the hand-off is seen at once.
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (c: string) => {
    input += c;
    if (!input.includes('ok\n')) return;
    adopted = true;
    process.stdin.removeAllListeners();
    process.stdin.destroy();
    process.stdout.destroy();
  });
  process.stdin.on('end', () => { if (!adopted) process.exit(0); });
  process.stdin.on('error', () => { if (!adopted) process.exit(0); });
  process.stdout.on('error', () => { if (!adopted) process.exit(0); });
  try {
    for (const [n, t] of targets.entries()) ports.push(await proxies.start(t, FIRST_FD + n));
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ error: (err as Error).message })}\n`, () => process.exit(1));
    return;
  }
  process.stdout.write(`${JSON.stringify({ ports })}\n`);
}

if (process.argv.includes(PROXY_FLAG)) void main();
