// The relay in front of real PROXY-protocol receivers, as in production: nginx with
// `listen ... proxy_protocol` (what ingress-nginx runs) and HAProxy with `accept-proxy`.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestRelay, type TestRelay } from './helpers.ts';
import {
  HAPROXY,
  httpGet,
  NGINX,
  peerMissing,
  startHaproxyReceiver,
  startNginx,
  type Peer,
} from '@hairpin/testing';
import { createServer } from 'node:net';
import { once } from 'node:events';

async function ipv6Available(): Promise<boolean> {
  const s = createServer();
  try {
    s.listen(0, '::1');
    await once(s, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    s.close();
  }
}

const receivers = [
  { name: 'nginx', binary: NGINX, start: (ipv6: boolean) => startNginx({ ipv6 }) },
  { name: 'HAProxy', binary: HAPROXY, start: (ipv6: boolean) => startHaproxyReceiver({ ipv6 }) },
];

describe.each(receivers)('$name as the receiver', ({ binary, start }) => {
  const missing = peerMissing(binary);
  let peer: Peer | undefined;
  let ipv6 = false;
  const relays: TestRelay[] = [];

  beforeAll(async () => {
    if (missing !== undefined) return;
    ipv6 = await ipv6Available();
    peer = await start(ipv6);
  });
  afterAll(async () => {
    for (const r of relays) await r.close();
    await peer?.stop();
  });

  const cases = [
    { version: 'v1', family: 'IPv4', host: '127.0.0.1' },
    { version: 'v2', family: 'IPv4', host: '127.0.0.1' },
    { version: 'v1', family: 'IPv6', host: '::1' },
    { version: 'v2', family: 'IPv6', host: '::1' },
  ] as const;

  test.for(cases)(
    'PROXY $version over $family: the receiver sees the client address',
    async (c, ctx) => {
      if (missing !== undefined) ctx.skip(missing);
      if (c.family === 'IPv6' && !ipv6) ctx.skip('no IPv6 loopback on this machine');
      const relay = await startTestRelay(peer!.port, {
        proxyProtocol: c.version,
        listenHost: c.host,
        targetHost: '127.0.0.1',
      });
      relays.push(relay);
      for (let i = 0; i < 3; i++) {
        const { body, local } = await httpGet(relay.port, c.host);
        const expected = c.family === 'IPv6' ? local : local.replace(/^::ffff:/, '');
        expect(body).toBe(expected);
      }
    },
  );

  test('without the header the receiver refuses (the hairpin problem itself)', async (ctx) => {
    if (missing !== undefined) ctx.skip(missing);
    const outcome = await httpGet(peer!.port, '127.0.0.1').then(
      (r) => r.body,
      (err: Error) => `error: ${err.message}`,
    );
    expect(outcome).not.toMatch(/^127\.0\.0\.1:\d+$/);
  });
});
