// The public-API ceiling for `pnpm bench`: the relay's fast path with nothing around it (no
// metrics, timeouts, limits, resolver or logs). Upstream reads through `onread` into one
// shared buffer, copied out; client reads through 'data', written to the upstream corked
// until the loop turn's reads are done; a hand-built PROXY v1 header; shared handler
// functions. What it costs over HAProxy, Node's public socket API costs; what the relay
// costs over it, the relay's own work does.
//   node bench/bare-relay.ts LISTEN_PORT TARGET_PORT
import { connect, createServer, type Socket } from 'node:net';

const [listenPort, targetPort] = process.argv.slice(2).map(Number);
const kPeer = Symbol('peer');
type Peered = Socket & { [kPeer]: Peered };
const shared = Buffer.allocUnsafe(64 * 1024);

let corked: Peered[] = [];
function uncorkAll(): void {
  const all = corked;
  corked = [];
  for (const up of all) up.uncork();
}
function onData(this: Peered, chunk: Buffer): void {
  const up = this[kPeer];
  if (up.writableCorked === 0) {
    up.cork();
    if (corked.push(up) === 1) setImmediate(uncorkAll);
  }
  if (!up.write(chunk)) this.pause();
}
function onEnd(this: Peered): void {
  this[kPeer].end();
}
function onDrain(this: Peered): void {
  this[kPeer].resume();
}
function onError(this: Peered): void {
  this.destroy();
  this[kPeer].destroy();
}
function onClose(this: Peered): void {
  this[kPeer].destroy();
}
function onRead(this: Peered, n: number, buf: Buffer): boolean {
  const client = this[kPeer];
  const out = Buffer.allocUnsafe(n);
  buf.copy(out, 0, 0, n);
  client.write(out);
  return client.writableLength < client.writableHighWaterMark;
}
function onConnect(this: Peered): void {
  const c = this[kPeer];
  const { remoteAddress, remotePort, localAddress, localPort } = c;
  if (remoteAddress === undefined) return onError.call(this);
  this.write(
    Buffer.from(`PROXY TCP4 ${remoteAddress} ${localAddress} ${remotePort} ${localPort}\r\n`),
  );
  c.on('data', onData).on('end', onEnd).on('drain', onDrain).resume();
}

const options = { allowHalfOpen: true, pauseOnConnect: true, noDelay: true };
createServer(options, (socket) => {
  const client = socket as Peered;
  const up = connect({
    host: '127.0.0.1',
    port: targetPort!,
    allowHalfOpen: true,
    noDelay: true,
    onread: { buffer: shared, callback: onRead },
  }) as Peered;
  client[kPeer] = up;
  up[kPeer] = client;
  client.on('error', onError).on('close', onClose);
  up.on('error', onError).on('connect', onConnect).on('end', onEnd).on('drain', onDrain);
}).listen({ host: '127.0.0.1', port: listenPort, backlog: 4096 });
