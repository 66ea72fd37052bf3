// The PROXY protocol header (haproxy proxy-protocol.txt), built with proxy-protocol-js.
// Pure: addresses in, bytes out. It is the first thing written upstream on every
// connection, so it carries the client's real address and the address it reached.
import { isIPv4, isIPv6 } from 'node:net';
import pp from 'proxy-protocol-js';

export type ProxyVersion = 'v1' | 'v2';

export interface Endpoints {
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly destinationAddress: string;
  readonly destinationPort: number;
}

/** `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) is the IPv4 address 10.0.0.1. */
export function unmapIPv4(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/** 16 bytes of an IPv6 address (with `::` and a dotted IPv4 tail handled). */
export function ipv6Bytes(address: string): number[] {
  const [head = '', tail] = address.split('::') as [string, string | undefined];
  const groups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (isIPv4(g)) {
        const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number];
        out.push((a << 8) | b, (c << 8) | d);
      } else {
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

function toIPv6(address: string): string {
  return isIPv4(address) ? `::ffff:${address}` : address;
}

/**
 * The header for one connection. Both addresses must be of one family: when they are not
 * (an IPv4 client reached an IPv6 listener address), the IPv4 one is written as an
 * IPv4-mapped IPv6 address, which both nginx and HAProxy accept.
 */
export function buildProxyHeader(version: ProxyVersion, e: Endpoints): Buffer {
  let src = unmapIPv4(e.sourceAddress);
  let dst = unmapIPv4(e.destinationAddress);
  const v4 = isIPv4(src) && isIPv4(dst);
  if (!v4) {
    src = toIPv6(src);
    dst = toIPv6(dst);
    if (!isIPv6(src) || !isIPv6(dst)) throw new TypeError(`not IP addresses: ${src} ${dst}`);
  }
  if (version === 'v1') {
    // PROXY v1 §2.1: one line, at most 107 bytes, CRLF-terminated.
    const header = new pp.V1ProxyProtocol(
      v4 ? pp.INETProtocol.TCP4 : pp.INETProtocol.TCP6,
      new pp.Peer(src, e.sourcePort),
      new pp.Peer(dst, e.destinationPort),
    ).build();
    return Buffer.from(header, 'latin1');
  }
  // PROXY v2 §2.2: 16-byte preamble (signature, PROXY command, TCP over IPv4/IPv6), then
  // 12 (IPv4) or 36 (IPv6) bytes of addresses and ports.
  const address = v4
    ? new pp.IPv4ProxyAddress(
        pp.IPv4Address.createFrom(src.split('.').map(Number)),
        e.sourcePort,
        pp.IPv4Address.createFrom(dst.split('.').map(Number)),
        e.destinationPort,
      )
    : new pp.IPv6ProxyAddress(
        pp.IPv6Address.createFrom(ipv6Bytes(src)),
        e.sourcePort,
        pp.IPv6Address.createFrom(ipv6Bytes(dst)),
        e.destinationPort,
      );
  const bytes = new pp.V2ProxyProtocol(
    pp.Command.PROXY,
    pp.TransportProtocol.STREAM,
    address,
  ).build();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
