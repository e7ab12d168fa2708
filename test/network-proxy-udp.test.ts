// A published UDP port goes through the same hand-off as TCP (network-proxy-handoff.test.ts):
// served by the daemon's side at once, then by the proxy process on the very same socket, which
// keeps answering after a kill -9 of its daemon. The "daemon" here is a process running the bridge
// driver's ProxyProcesses alone, and the "container" a UDP echo server of this test on loopback
// (busybox has no UDP server): real sockets and processes, no container needed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { makeTempDir } from './helpers/daemon.js';
import { proxyProcesses } from './helpers/network.js';

const PROXY_PROCESSES = fileURLToPath(new URL('../plugins/network-bridge/proxy-processes.js', import.meta.url));

function ask(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => { s.close(); resolve('no answer'); }, 2000);
    s.on('message', (m) => { clearTimeout(timer); s.close(); resolve(String(m)); });
    s.send(text, port, '127.0.0.1');
  });
}

test('a UDP port answers at once, then through the proxy process, and still after a kill -9 of the daemon', async (t) => {
  const endpoint = `udp-handoff-${process.pid}`;
  const dir = makeTempDir('berth-netudp-');
  const echo = createSocket('udp4');
  echo.on('message', (m, from) => echo.send(`echo:${m}`, from.port, from.address));
  await new Promise<void>((r) => echo.bind(0, '127.0.0.1', () => r()));
  const target = { proto: 'udp', hostIp: '127.0.0.1', hostPort: 0, containerIp: '127.0.0.1', containerPort: echo.address().port };
  const script = `
    import { writeFileSync, renameSync } from 'node:fs';
    const { ProxyProcesses } = await import(${JSON.stringify(PROXY_PROCESSES)});
    const fs = { writeFileAtomic: async (p, d) => { writeFileSync(p + '.tmp', d); renameSync(p + '.tmp', p); } };
    const log = { debug() {}, info() {}, warn(o, m) { console.error(m, o); } };
    const pp = new ProxyProcesses(${JSON.stringify(dir)}, fs, log);
    const [port] = await pp.start(${JSON.stringify(endpoint)}, [${JSON.stringify(target)}]);
    console.log('port ' + port);
    await pp.settle();
    console.log('handed');
    setInterval(() => {}, 1000);`;
  const main = join(dir, 'daemon.mjs');
  writeFileSync(main, script);
  const daemon = spawn(process.execPath, [main], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    daemon.kill('SIGKILL');
    for (const pid of proxyProcesses((args) => args.includes(endpoint))) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    echo.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const lines = createInterface({ input: daemon.stdout! })[Symbol.asyncIterator]();
  const next = async () => String((await Promise.race([lines.next(), new Promise((_, rej) => setTimeout(() => rej(new Error('no line from the daemon in 20 s')), 20_000))]) as IteratorResult<string>).value);
  const port = Number((await next()).replace('port ', ''));
  assert.ok(port > 0);
  assert.equal(await ask(port, 'a'), 'echo:a', 'answered at once');
  assert.equal(await next(), 'handed');
  const proxy = proxyProcesses((args) => args.includes(endpoint));
  assert.equal(proxy.length, 1, 'one proxy process');
  assert.equal(await ask(port, 'b'), 'echo:b', 'answered after the hand-off');

  daemon.kill('SIGKILL');
  await new Promise((r) => daemon.once('exit', r));
  assert.equal(await ask(port, 'c'), 'echo:c', 'answered with the daemon gone');
  assert.deepEqual(proxyProcesses((args) => args.includes(endpoint)), proxy);
});
