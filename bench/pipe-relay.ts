// The floor for `pnpm bench`: the simplest correct PROXY v1 relay, `pipe` both ways.
// The real relay must never be slower than this.
//   node bench/pipe-relay.ts LISTEN_PORT TARGET_PORT
import { connect, createServer, type Socket } from 'node:net';

const [listenPort, targetPort] = process.argv.slice(2).map(Number);
const options = { allowHalfOpen: true, pauseOnConnect: true };

createServer(options, (client: Socket) => {
  const up = connect({ host: '127.0.0.1', port: targetPort!, allowHalfOpen: true });
  const both = (): void => {
    client.destroy();
    up.destroy();
  };
  client.on('error', both).on('close', () => up.destroy());
  up.on('error', both);
  up.on('connect', () => {
    const { remoteAddress, remotePort, localAddress, localPort } = client;
    if (remoteAddress === undefined) return both();
    up.write(`PROXY TCP4 ${remoteAddress} ${localAddress} ${remotePort} ${localPort}\r\n`);
    client.pipe(up);
    up.pipe(client);
  });
}).listen({ host: '127.0.0.1', port: listenPort, backlog: 4096 });
