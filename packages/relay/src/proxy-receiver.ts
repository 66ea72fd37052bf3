// The receiving side of the PROXY protocol, for the demo backend and the tests: reads the
// header off a socket, hands the rest of the stream on. (In production the receiver is
// ingress-nginx; this exists so a user can watch the relay work with nothing else.)
import type { Socket } from 'node:net';
import pp from 'proxy-protocol-js';

export interface ReceivedHeader {
  readonly version: 'v1' | 'v2';
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly destinationAddress: string;
  readonly destinationPort: number;
}

const V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

function formatV6(bytes: readonly number[]): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/** Length of a complete header at the start of `buf`, 0 if more bytes are needed, -1 if none. */
export function headerLength(buf: Buffer): number {
  if (buf.length >= 12 && buf.subarray(0, 12).equals(V2_SIGNATURE)) {
    return buf.length < 16
      ? 0
      : buf.length >= 16 + buf.readUInt16BE(14)
        ? 16 + buf.readUInt16BE(14)
        : 0;
  }
  if (
    V2_SIGNATURE.subarray(0, Math.min(buf.length, 12)).equals(buf.subarray(0, 12)) &&
    buf.length < 12
  )
    return 0;
  if (!'PROXY '.startsWith(buf.subarray(0, 6).toString('latin1'))) return -1;
  const end = buf.indexOf('\r\n');
  if (end === -1) return buf.length > 107 ? -1 : 0;
  return end + 2;
}

export function parseHeader(header: Buffer): ReceivedHeader {
  if (header.subarray(0, 12).equals(V2_SIGNATURE)) {
    const parsed = pp.V2ProxyProtocol.parse(new Uint8Array(header));
    const a = parsed.proxyAddress;
    if (a instanceof pp.IPv4ProxyAddress) {
      return {
        version: 'v2',
        sourceAddress: a.sourceAddress.address.join('.'),
        sourcePort: a.sourcePort,
        destinationAddress: a.destinationAddress.address.join('.'),
        destinationPort: a.destinationPort,
      };
    }
    if (a instanceof pp.IPv6ProxyAddress) {
      return {
        version: 'v2',
        sourceAddress: formatV6(a.sourceAddress.address),
        sourcePort: a.sourcePort,
        destinationAddress: formatV6(a.destinationAddress.address),
        destinationPort: a.destinationPort,
      };
    }
    throw new Error('PROXY v2 header without TCP addresses');
  }
  const v1 = pp.V1ProxyProtocol.parse(header.toString('latin1'));
  return {
    version: 'v1',
    sourceAddress: v1.source.ipAddress,
    sourcePort: v1.source.port,
    destinationAddress: v1.destination.ipAddress,
    destinationPort: v1.destination.port,
  };
}

/** Reads the header, puts any bytes after it back on the socket, resolves with it. */
export function readProxyHeader(socket: Socket, timeoutMs = 5_000): Promise<ReceivedHeader> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error('no PROXY header in time')), timeoutMs);
    const finish = (err: Error | undefined, header?: ReceivedHeader): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      if (err !== undefined) reject(err);
      else resolve(header!);
    };
    const onEnd = (): void => finish(new Error('connection ended before a PROXY header'));
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const n = headerLength(buf);
      if (n === 0) return;
      if (n < 0) {
        finish(new Error('not a PROXY protocol header'));
        return;
      }
      socket.pause();
      let header: ReceivedHeader;
      try {
        header = parseHeader(buf.subarray(0, n));
      } catch (err) {
        finish(err as Error);
        return;
      }
      if (buf.length > n) socket.unshift(buf.subarray(n));
      finish(undefined, header);
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
  });
}
