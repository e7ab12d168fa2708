// Run by the daemon inside a container's network namespace (through nsenter): binds the
// embedded DNS address 127.0.0.11:53/udp there, hands the socket to the daemon over the IPC
// channel and exits. The socket stays open in the daemon, which answers on it.
import { createSocket } from 'node:dgram';

const socket = createSocket('udp4');
socket.on('error', (err) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
socket.bind(53, '127.0.0.11', () => {
  process.send!('socket', socket, () => process.exit(0));
});
