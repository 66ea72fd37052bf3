// The PROXY protocol header (haproxy proxy-protocol.txt), encoded by hand into one Buffer.
// Pure: addresses in, bytes out. It is the first thing written upstream on every
// connection, so it carries the client's real address and the address it reached.
//
// Built on every connection, so it avoids the object graph and intermediate strings of
// proxy-protocol-js (measured: 20% of the relay's CPU per keep-alive request). The library
// stays the reference: proxy-header.test.ts checks these bytes against it, byte for byte.
import { isIPv4, isIPv6 } from 'node:net';

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

/** Writes a dotted-quad IPv4 address (already validated) as 4 bytes at `at`. */
function writeIPv4(out: Buffer, at: number, address: string): void {
  let octet = 0;
  let i = at;
  for (let k = 0; k < address.length; k++) {
    const c = address.charCodeAt(k);
    if (c === 0x2e) {
      out[i++] = octet;
      octet = 0;
    } else {
      octet = octet * 10 + (c - 0x30);
    }
  }
  out[i] = octet;
}

// PROXY v2 §2.2: the 12-byte signature, then version 2 with the PROXY command (0x21).
const V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a21', 'hex');

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
  const sp = e.sourcePort;
  const dp = e.destinationPort;
  if (version === 'v1') {
    // PROXY v1 §2.1: one line, at most 107 bytes, CRLF-terminated; addresses as the kernel
    // gave them (nginx and HAProxy accept compressed IPv6).
    return Buffer.from(`PROXY ${v4 ? 'TCP4' : 'TCP6'} ${src} ${dst} ${sp} ${dp}\r\n`, 'latin1');
  }
  // PROXY v2 §2.2: 16-byte preamble (signature, PROXY command, family and transport, length
  // of what follows), then 12 (IPv4) or 36 (IPv6) bytes of addresses and ports.
  const out = Buffer.allocUnsafe(v4 ? 28 : 52);
  V2_SIGNATURE.copy(out, 0);
  out[13] = v4 ? 0x11 : 0x21; // TCP over IPv4 / IPv6
  if (v4) {
    out.writeUInt16BE(12, 14);
    writeIPv4(out, 16, src);
    writeIPv4(out, 20, dst);
    out.writeUInt16BE(sp, 24);
    out.writeUInt16BE(dp, 26);
  } else {
    out.writeUInt16BE(36, 14);
    out.set(ipv6Bytes(src), 16);
    out.set(ipv6Bytes(dst), 32);
    out.writeUInt16BE(sp, 48);
    out.writeUInt16BE(dp, 50);
  }
  return out;
}
