// A Docker authz plugin that allows everything, for measure-authz.ts: `node authz-allow-all-plugin.js
// SOCKET`. It runs in a process of its own, as real plugins do, so its work does not share the
// benchmark client's event loop. It says "ready" once listening and exits when its stdin closes,
// so it cannot outlive a benchmark runner that died abruptly.
import { rmSync } from 'node:fs';
import { createServer } from 'node:http';

const socket = process.argv[2];
if (!socket) throw new Error('usage: authz-allow-all-plugin.js SOCKET');
const TYPE = { 'Content-Type': 'application/vnd.docker.plugins.v1.2+json' };

const server = createServer((req, res) => {
  let text = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => (text += c));
  req.on('end', () => {
    // Read the document as any real plugin must, even though the answer does not depend on it.
    if (text) JSON.parse(text);
    const answer = req.url === '/Plugin.Activate' ? { Implements: ['authz'] }
      : req.url === '/AuthZPlugin.AuthZReq' || req.url === '/AuthZPlugin.AuthZRes' ? { Allow: true }
        : undefined;
    if (answer) res.writeHead(200, TYPE).end(JSON.stringify(answer));
    else res.writeHead(404, TYPE).end(JSON.stringify({ Err: `unknown method ${req.url}` }));
  });
});

function stop(): void {
  server.close();
  server.closeAllConnections();
  rmSync(socket, { force: true });
  process.exit(0);
}

rmSync(socket, { force: true });
server.listen(socket, () => process.stdout.write('ready\n'));
process.stdin.on('end', stop).resume();
process.once('SIGTERM', stop);
