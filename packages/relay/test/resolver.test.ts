// The target's addresses over time, through the relay on real loopback sockets: the last
// good answer is held for --hold-nx and then dropped; failed addresses are tried last.
import { Writable } from 'node:stream';
import { createLogger } from '@hairpin/shared/runtime';
import { afterEach, describe, expect, test } from 'vitest';
import {
  dial,
  metricValue,
  readAll,
  startBlackhole,
  startReceiver,
  startTestRelay,
  waitFor,
} from './helpers.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A logger whose JSON lines the test can read. */
function capturedLog() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l));
      done();
    },
  });
  return { log: createLogger({ level: 'debug' }, sink), lines };
}

const notFound = () =>
  Object.assign(new Error('getaddrinfo ENOTFOUND ingress.example'), { code: 'ENOTFOUND' });

async function reply(port: number): Promise<string> {
  const client = await dial(port);
  return (await readAll(client)).toString();
}

describe('a name that stops resolving', () => {
  test('the last answer is used for --hold-nx, then not ready and no_upstream, then back', async () => {
    const receiver = await startReceiver((s) => s.end('ok'));
    cleanups.push(() => receiver.close());
    let answer: 'ok' | 'nx' | 'dns-down' = 'ok';
    let lookups = 0;
    const relay = await startTestRelay(receiver.port, {
      targetHost: 'ingress.example',
      resolveIntervalMs: 100,
      holdNxMs: 600,
      lookup: async () => {
        lookups++;
        if (answer === 'nx') throw notFound();
        if (answer === 'dns-down')
          throw Object.assign(new Error('getaddrinfo EAI_AGAIN'), { code: 'EAI_AGAIN' });
        return ['127.0.0.1'];
      },
    });
    cleanups.push(() => relay.close());
    await waitFor(() => relay.relay.notReadyReason() === null);

    answer = 'nx';
    const failingFrom = lookups;
    await waitFor(() => lookups > failingFrom);
    const nxSeen = Date.now();
    // Within the hold: still ready, still relayed.
    expect(relay.relay.notReadyReason()).toBeNull();
    expect(await reply(relay.port)).toBe('ok');
    // After it: not ready, and connections are closed and counted as no_upstream.
    await waitFor(() => relay.relay.notReadyReason() !== null, 5_000);
    expect(Date.now() - nxSeen).toBeGreaterThanOrEqual(400);
    expect(relay.relay.notReadyReason()).toMatch(/ingress\.example does not resolve/);
    expect(await reply(relay.port)).toBe('');
    expect(
      await metricValue(relay.registry, 'hairpin_relay_connections_total', {
        result: 'no_upstream',
      }),
    ).toBe(1);

    // The name is back: ready and relaying again.
    answer = 'ok';
    await waitFor(() => relay.relay.notReadyReason() === null, 5_000);
    expect(await reply(relay.port)).toBe('ok');

    // A DNS server that does not answer says nothing about the name: the answer stays.
    answer = 'dns-down';
    const downFrom = lookups;
    await waitFor(() => lookups > downFrom + 2, 5_000);
    await new Promise((r) => setTimeout(r, 700));
    expect(relay.relay.notReadyReason()).toBeNull();
    expect(await reply(relay.port)).toBe('ok');
  });
});

describe('a dead address among several', () => {
  test('a refusing address is tried last for a while: one warning, not one per other connection', async () => {
    const receiver = await startReceiver((s) => s.end('ok'));
    cleanups.push(() => receiver.close());
    const { log, lines } = capturedLog();
    const relay = await startTestRelay(receiver.port, {
      targetHost: 'ingress.example',
      log,
      // 127.0.0.2 is loopback too, but nothing listens there on this port: refused.
      lookup: async () => ['127.0.0.2', '127.0.0.1'],
    });
    cleanups.push(() => relay.close());
    await waitFor(() => relay.relay.notReadyReason() === null);
    for (let i = 0; i < 20; i++) expect(await reply(relay.port)).toBe('ok');
    const warnings = lines.filter((l) => String(l['msg']).startsWith('upstream connect failed'));
    expect(warnings.length).toBe(1);
    expect(receiver.headers).toHaveLength(20);
  });

  test('a blackholed address costs one connect timeout, not every other connection', async () => {
    const receiver = await startReceiver((s) => s.end('ok'));
    cleanups.push(() => receiver.close());
    // Same port on 127.0.0.2, where nothing accepts and SYNs are dropped.
    const blackhole = await startBlackhole('127.0.0.2', receiver.port);
    cleanups.push(() => blackhole.close());
    const connectTimeoutMs = 800;
    const relay = await startTestRelay(receiver.port, {
      targetHost: 'ingress.example',
      connectTimeoutMs,
      lookup: async () => ['127.0.0.2', '127.0.0.1'],
    });
    cleanups.push(() => relay.close());
    await waitFor(() => relay.relay.notReadyReason() === null);
    const waited: number[] = [];
    for (let i = 0; i < 6; i++) {
      const started = Date.now();
      expect(await reply(relay.port)).toBe('ok');
      waited.push(Date.now() - started);
    }
    // Only the first connection found out the hard way.
    expect(waited.filter((ms) => ms >= connectTimeoutMs).length, String(waited)).toBe(1);
    expect(waited[0]).toBeGreaterThanOrEqual(connectTimeoutMs);
  });
});
