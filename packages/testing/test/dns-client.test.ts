// The raw DNS client against the stub upstream (no CoreDNS needed): answers as sent, NXDOMAIN
// with its SOA, the name's case kept, TCP when the UDP answer is truncated.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import {
  decodeMessage,
  encodeQuery,
  queryDns,
  startStubUpstream,
  STUB_UPSTREAM_TTL,
  type StubUpstream,
} from '../src/index.ts';

describe('queryDns against the stub upstream', () => {
  let stub: StubUpstream;
  beforeAll(async () => {
    stub = await startStubUpstream();
  });
  afterAll(async () => {
    await stub.stop();
  });

  test('A and AAAA records, with owner name, TTL and flags as sent', async () => {
    const a = await queryDns(stub, 'shop.example.com', 'A');
    expect(a).toMatchObject({
      rcode: 'NOERROR',
      transport: 'udp',
      flags: { qr: true, aa: true, tc: false, rd: true },
      question: [{ name: 'shop.example.com.', type: 'A', class: 1 }],
      answers: [
        {
          name: 'shop.example.com.',
          type: 'A',
          class: 1,
          ttl: STUB_UPSTREAM_TTL,
          data: '192.0.2.10',
        },
      ],
      authority: [],
      additional: [],
    });
    const aaaa = await queryDns(stub, 'shop.example.com', 'AAAA');
    expect(aaaa.answers.map((r) => [r.type, r.data])).toEqual([['AAAA', '2001:db8::10']]);
  });

  test('an unknown name is NXDOMAIN with the SOA in the authority section', async () => {
    const r = await queryDns(stub, 'nothing.example.net', 'A');
    expect(r.rcode).toBe('NXDOMAIN');
    expect(r.answers).toEqual([]);
    expect(r.authority).toEqual([
      {
        name: 'example.net.',
        type: 'SOA',
        class: 1,
        ttl: 30,
        data: 'ns.example.net. hostmaster.example.net. 1 3600 600 86400 30',
      },
    ]);
  });

  test('a known name without records of the type is NODATA (NOERROR, no answers, SOA)', async () => {
    const r = await queryDns(stub, 'api.example.com', 'AAAA');
    expect([r.rcode, r.answers.length, r.authority[0]?.type]).toEqual(['NOERROR', 0, 'SOA']);
  });

  test('the name keeps the case it was asked with, on the wire and in the answer', async () => {
    const before = stub.received.length;
    const r = await queryDns(stub, 'ShOp.Example.COM', 'A');
    expect(stub.received.slice(before)).toEqual([
      { name: 'ShOp.Example.COM.', type: 'A', transport: 'udp' },
    ]);
    expect(r.question[0]?.name).toBe('ShOp.Example.COM.');
    expect(r.answers[0]).toMatchObject({ name: 'ShOp.Example.COM.', data: '192.0.2.10' });
  });

  test('a truncated UDP answer is asked again over TCP', async () => {
    const r = await queryDns(stub, 'big.example.com', 'A');
    expect(r.transport).toBe('tcp');
    expect(r.answers).toHaveLength(40);
    expect(
      stub.received.filter((q) => q.name === 'big.example.com.').map((q) => q.transport),
    ).toEqual(['udp', 'tcp']);
  });

  test('with EDNS the UDP answer may be larger and is not truncated', async () => {
    const r = await queryDns(stub, 'big.example.com', 'A', { ednsUdpSize: 4096 });
    expect([r.transport, r.answers.length]).toEqual(['udp', 40]);
  });

  test('TCP only, when asked', async () => {
    const r = await queryDns(stub, 'www.example.org', 'A', { transport: 'tcp' });
    expect([r.transport, r.answers[0]?.data]).toEqual(['tcp', '192.0.2.12']);
  });

  test('a server that never answers is an error naming it, in bounded time', async () => {
    const silent = createSocket('udp4');
    silent.bind(0, '127.0.0.1');
    await once(silent, 'listening');
    const { port } = silent.address();
    try {
      await expect(queryDns({ port }, 'shop.example.com', 'A', { timeoutMs: 100 })).rejects.toThrow(
        `no UDP answer from 127.0.0.1:${port} for shop.example.com A (2 x 100 ms)`,
      );
    } finally {
      silent.close();
    }
  });
});

describe('the wire codec', () => {
  test('a query round-trips: id, RD, the name as given, the type', () => {
    const m = decodeMessage(encodeQuery('Mixed.Case.example', 'AAAA', { id: 4711 }));
    expect(m).toMatchObject({
      id: 4711,
      flags: { qr: false, rd: true },
      question: [{ name: 'Mixed.Case.example.', type: 'AAAA', class: 1 }],
    });
    expect(m.edns).toBeUndefined();
  });

  test('EDNS: the OPT record is reported apart, not among the additional records', () => {
    const m = decodeMessage(encodeQuery('a.example', 'A', { ednsUdpSize: 1232 }));
    expect([m.edns?.udpSize, m.additional]).toEqual([1232, []]);
  });
});
