import fc from 'fast-check';
import { isIPv4 } from 'node:net';
import pp from 'proxy-protocol-js';
import { describe, expect, test } from 'vitest';
import { buildProxyHeader, ipv6Bytes, unmapIPv4 } from './proxy-header.ts';

const v4 = {
  sourceAddress: '10.244.1.7',
  sourcePort: 51234,
  destinationAddress: '10.96.0.50',
  destinationPort: 80,
};
const v6 = {
  sourceAddress: 'fd00:10:244::7',
  sourcePort: 51234,
  destinationAddress: 'fd00:10:96::50',
  destinationPort: 443,
};

describe('PROXY v1', () => {
  test('IPv4', () => {
    expect(buildProxyHeader('v1', v4).toString()).toBe(
      'PROXY TCP4 10.244.1.7 10.96.0.50 51234 80\r\n',
    );
  });
  test('IPv6, and an IPv4-mapped client unmapped', () => {
    expect(buildProxyHeader('v1', v6).toString()).toBe(
      'PROXY TCP6 fd00:10:244::7 fd00:10:96::50 51234 443\r\n',
    );
    expect(buildProxyHeader('v1', { ...v4, sourceAddress: '::ffff:10.244.1.7' }).toString()).toBe(
      'PROXY TCP4 10.244.1.7 10.96.0.50 51234 80\r\n',
    );
  });
  test('mixed families are written as IPv6', () => {
    expect(buildProxyHeader('v1', { ...v6, sourceAddress: '10.0.0.1' }).toString()).toBe(
      'PROXY TCP6 ::ffff:10.0.0.1 fd00:10:96::50 51234 443\r\n',
    );
  });
  test('never longer than 107 bytes (spec §2.1)', () => {
    const longest = {
      sourceAddress: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
      sourcePort: 65535,
      destinationAddress: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
      destinationPort: 65535,
    };
    expect(buildProxyHeader('v1', longest).length).toBeLessThanOrEqual(107);
  });
});

describe('PROXY v2', () => {
  test('IPv4 round-trips through the parser', () => {
    const bytes = buildProxyHeader('v2', v4);
    expect(bytes.length).toBe(16 + 12);
    expect(bytes.subarray(0, 12)).toEqual(Buffer.from('0d0a0d0a000d0a515549540a', 'hex'));
    expect(bytes[12]).toBe(0x21); // version 2, PROXY
    expect(bytes[13]).toBe(0x11); // TCP over IPv4
    const parsed = pp.V2ProxyProtocol.parse(bytes);
    const addr = parsed.proxyAddress as InstanceType<typeof pp.IPv4ProxyAddress>;
    expect(addr.sourceAddress.address).toEqual([10, 244, 1, 7]);
    expect(addr.sourcePort).toBe(51234);
    expect(addr.destinationPort).toBe(80);
  });
  test('IPv6', () => {
    const bytes = buildProxyHeader('v2', v6);
    expect(bytes.length).toBe(16 + 36);
    expect(bytes[13]).toBe(0x21); // TCP over IPv6
    expect([...bytes.subarray(16, 32)]).toEqual(ipv6Bytes('fd00:10:244::7'));
  });
});

test('address helpers', () => {
  expect(unmapIPv4('::ffff:127.0.0.1')).toBe('127.0.0.1');
  expect(unmapIPv4('::1')).toBe('::1');
  expect(ipv6Bytes('::1')).toEqual([...new Array<number>(15).fill(0), 1]);
  expect(ipv6Bytes('::ffff:1.2.3.4').slice(10)).toEqual([0xff, 0xff, 1, 2, 3, 4]);
  expect(ipv6Bytes('fd00:10:96::50').slice(0, 6)).toEqual([0xfd, 0, 0, 0x10, 0, 0x96]);
});

/** The reference: the same header through proxy-protocol-js's objects. */
function referenceHeader(version: 'v1' | 'v2', e: typeof v4): Buffer {
  let src = unmapIPv4(e.sourceAddress);
  let dst = unmapIPv4(e.destinationAddress);
  const four = isIPv4(src) && isIPv4(dst);
  if (!four) {
    src = isIPv4(src) ? `::ffff:${src}` : src;
    dst = isIPv4(dst) ? `::ffff:${dst}` : dst;
  }
  if (version === 'v1') {
    return Buffer.from(
      new pp.V1ProxyProtocol(
        four ? pp.INETProtocol.TCP4 : pp.INETProtocol.TCP6,
        new pp.Peer(src, e.sourcePort),
        new pp.Peer(dst, e.destinationPort),
      ).build(),
      'latin1',
    );
  }
  const address = four
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

describe('byte for byte against proxy-protocol-js', () => {
  const cases = [
    v4,
    v6,
    { ...v4, sourceAddress: '::ffff:10.244.1.7' },
    { ...v6, sourceAddress: '10.0.0.1' },
    {
      sourceAddress: '0.0.0.0',
      sourcePort: 0,
      destinationAddress: '255.255.255.255',
      destinationPort: 65535,
    },
    { sourceAddress: '::1', sourcePort: 1, destinationAddress: '::', destinationPort: 2 },
    {
      sourceAddress: '::ffff:1.2.3.4',
      sourcePort: 3,
      destinationAddress: 'fe80::1',
      destinationPort: 4,
    },
  ];
  test.each(['v1', 'v2'] as const)('%s: fixed cases', (version) => {
    for (const c of cases)
      expect(buildProxyHeader(version, c)).toEqual(referenceHeader(version, c));
  });
  test.each(['v1', 'v2'] as const)('%s: any addresses and ports', (version) => {
    const address = fc.oneof(fc.ipV4(), fc.ipV6());
    const port = fc.integer({ min: 0, max: 65535 });
    fc.assert(
      fc.property(address, port, address, port, (sa, sp, da, dp) => {
        const e = {
          sourceAddress: sa,
          sourcePort: sp,
          destinationAddress: da,
          destinationPort: dp,
        };
        expect(buildProxyHeader(version, e)).toEqual(referenceHeader(version, e));
      }),
      { numRuns: 2000 },
    );
  });
});
