// The port proxy process (dockerd's docker-proxy): one per container with published ports, started
// by the bridge driver detached in a session of its own, so that the ports keep answering while
// the daemon is down (kill -9, an upgrade with --live-restore) and a restarted daemon adopts it.
//
//   node proxy-main.js --berth-port-proxy <endpoint-id> '<JSON ProxyTarget[]>'
//
// It binds every host port (0: a free one) and reports on stdout one JSON line, {"ports": [...]}
// or {"error": "..."}; then waits for "ok" on stdin — the daemon has recorded it — before it stays
// for good: if stdin closes first (the daemon died or gave up), it exits and holds nothing.
// SIGTERM (or SIGKILL) ends it; the kernel closes its sockets.
import { PortProxies, type ProxyTarget } from './port-proxy.js';

export const PROXY_FLAG = '--berth-port-proxy';

async function main(): Promise<void> {
  const i = process.argv.indexOf(PROXY_FLAG);
  const targets = JSON.parse(process.argv[i + 2] ?? '[]') as ProxyTarget[];
  const proxies = new PortProxies();
  const ports: number[] = [];
  try {
    for (const t of targets) ports.push(await proxies.start(t));
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ error: (err as Error).message })}\n`, () => process.exit(1));
    return;
  }
  let input = '';
  const adopted = () => {
    process.stdin.removeAllListeners();
    process.stdin.destroy();
    process.stdout.destroy();
  };
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (c: string) => {
    input += c;
    if (input.includes('ok\n')) adopted();
  });
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdout.on('error', () => process.exit(0));
  process.stdout.write(`${JSON.stringify({ ports })}\n`);
}

if (process.argv.includes(PROXY_FLAG)) void main();
