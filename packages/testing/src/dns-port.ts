// One loopback port for DNS over both UDP and TCP: what the stub upstream listens on, and
// what CoreDNS is given as its -dns.port.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';

/** UDP and TCP listening on the same free port of 127.0.0.1. */
export async function listenDnsPort(): Promise<{ udp: UdpSocket; tcp: Server; port: number }> {
  // UDP on port 0, then TCP on the same port; another process may hold that TCP port: retry.
  for (let attempt = 0; ; attempt++) {
    const udp = createSocket('udp4');
    udp.bind(0, '127.0.0.1');
    await once(udp, 'listening');
    const { port } = udp.address();
    const tcp = createServer();
    try {
      tcp.listen(port, '127.0.0.1');
      await once(tcp, 'listening');
      return { udp, tcp, port };
    } catch (err) {
      udp.close();
      if (attempt >= 20) throw err;
    }
  }
}

/** A loopback port free for both UDP and TCP at the time of the call. */
export async function freeDnsPort(): Promise<number> {
  const { udp, tcp, port } = await listenDnsPort();
  await Promise.all([
    new Promise<void>((r) => udp.close(() => r())),
    new Promise<void>((r) => tcp.close(() => r())),
  ]);
  return port;
}
