// Transfers that must lose no byte and cut nothing alive (issue 20): an upstream that
// half-closes first and then reads slowly, a client that reads slowly and steadily through
// a short idle timeout, timeouts that never fire early, and a randomized run of hundreds of
// concurrent connections checked byte for byte both ways.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import {
  dial,
  metricValue,
  startReceiver,
  startTestRelay,
  waitFor,
  type Receiver,
  type TestRelay,
} from './helpers.ts';
import { freePort, HAPROXY, peerMissing, startPeer } from './peers.ts';
import { randomExercise } from './random-transfers.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function pair(
  onConnection: Parameters<typeof startReceiver>[0],
  options: Parameters<typeof startTestRelay>[1] = {},
): Promise<{ receiver: Receiver; relay: TestRelay }> {
  const receiver = await startReceiver(onConnection);
  cleanups.push(() => receiver.close());
  const relay = await startTestRelay(receiver.port, options);
  cleanups.push(() => relay.close());
  return { receiver, relay };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('an upstream that half-closes first and reads slowly gets every byte of every upload', async (ctx) => {
  // The upstream greets, sends its FIN, then reads a little at a time: the relay's writes
  // to it queue up while the client's upload ends (FIN) and the client side closes. Before,
  // that close destroyed the upstream with its queue, and the upstream took the cut upload
  // for a complete one (a FIN after fewer bytes). HAProxy (tcp mode, bytes passed through
  // untouched) stands in front of the upstream to give it what a real network has and
  // loopback lacks: an 8 KiB receive buffer and a 1460-byte MSS, so the relay's queue to it
  // is rarely empty.
  const missing = peerMissing(HAPROXY);
  if (missing !== undefined) ctx.skip(missing);
  const n = 24;
  const size = 1024 * 1024;
  const received = new Map<number, Buffer>();
  const receiver = await startReceiver((s, header) => {
    const chunks: Buffer[] = [];
    s.end('hello\n');
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      s.pause();
      setTimeout(() => s.resume(), 1);
    });
    s.on('end', () => received.set(header.sourcePort, Buffer.concat(chunks)));
  });
  cleanups.push(() => receiver.close());
  const dir = mkdtempSync(join(tmpdir(), 'hairpin-haproxy-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'haproxy.cfg'),
    `global
  nbthread 1
  tune.rcvbuf.client 8192
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend slow
  bind 127.0.0.1:${port} mss 1460
  default_backend upstream
backend upstream
  server upstream 127.0.0.1:${receiver.port}
`,
  );
  const haproxy = await startPeer(
    HAPROXY,
    ['-f', join(dir, 'haproxy.cfg'), '-db'],
    dir,
    port,
    '127.0.0.1',
  );
  cleanups.push(() => haproxy.stop());
  const relay = await startTestRelay(port);
  cleanups.push(() => relay.close());
  const uploads = await Promise.all(
    Array.from({ length: n }, async () => {
      const client = await dial(relay.port);
      const greeting: Buffer[] = [];
      client.on('data', (c: Buffer) => greeting.push(c));
      await once(client, 'end');
      expect(Buffer.concat(greeting).toString()).toBe('hello\n');
      const upload = randomBytes(size);
      for (let at = 0; at < size;) {
        const len = Math.min(size - at, 1 + Math.floor(Math.random() * 96 * 1024));
        if (!client.write(upload.subarray(at, at + len))) await once(client, 'drain');
        at += len;
      }
      const port = client.localPort!;
      client.end();
      await once(client, 'close');
      return { port, digest: sha(upload) };
    }),
  );
  await waitFor(() => received.size === n, 20_000);
  const cut = uploads.filter(({ port, digest }) => sha(received.get(port)!) !== digest);
  expect(cut.map(({ port }) => received.get(port)!.length)).toEqual([]);
  await waitFor(
    async () =>
      (await metricValue(relay.registry, 'hairpin_relay_connections_total', { result: 'ok' })) ===
      n,
  );
}, 30_000);

describe('idle timeout', () => {
  /** Reads `socket` at `rate` bytes a second; resolves with what came, or rejects on error. */
  function readSlowly(socket: Socket, rate: number): Promise<Buffer> {
    const started = Date.now();
    const chunks: Buffer[] = [];
    let got = 0;
    const allowed = (): boolean => got <= (rate * (Date.now() - started)) / 1000;
    const timer = setInterval(() => allowed() && socket.resume(), 10);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      got += c.length;
      if (!allowed()) socket.pause();
    });
    return new Promise((resolve, reject) => {
      socket.once('end', () => (clearInterval(timer), resolve(Buffer.concat(chunks))));
      socket.once('error', (err) => (clearInterval(timer), reject(err)));
    });
  }

  test('a client reading slowly and steadily is never idle, a client that stops is', async () => {
    // 3 MiB at 768 KiB/s through a 1 s idle timeout: the relay's writes wait on the
    // kernel's send buffer for longer than the timeout at a time, while the reader takes
    // bytes all along. Before, it was reset after a second or two.
    const data = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32BE(i, i);
    const { relay } = await pair((s) => s.end(data), { idleTimeoutMs: 1_000 });
    const client = await dial(relay.port);
    const started = Date.now();
    const got = await readSlowly(client, 768 * 1024);
    expect(Date.now() - started).toBeGreaterThan(2_000); // it did read slowly
    expect(got.length).toBe(data.length);
    expect(sha(got)).toBe(sha(data));
    client.end();

    // The same transfer to a reader that stops after its first read is cut by the timeout,
    // with a reset.
    const stopped = await dial(relay.port);
    const firstRead = once(stopped, 'data');
    await firstRead;
    stopped.pause();
    await waitFor(
      async () =>
        (await metricValue(relay.registry, 'hairpin_relay_connections_total', {
          result: 'idle_timeout',
        })) === 1,
      10_000,
    );
    stopped.destroy();
  }, 30_000);

  test('never before its time, and at most about one sweep later', async () => {
    // 300 silent connections: the sweep runs every quarter of the timeout; each connection
    // is closed no earlier than the timeout after it was set up, whenever in the sweep's
    // period it arrived.
    const timeoutMs = 800;
    const { relay } = await pair(() => {}, { idleTimeoutMs: timeoutMs });
    const n = 300;
    const lifetimes = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        await sleep((i * 3) % 400); // spread over more than one sweep period
        const client = await dial(relay.port);
        const opened = performance.now();
        client.on('error', () => {});
        client.resume();
        await once(client, 'end'); // the relay's FIN (the client allows half-open)
        client.destroy();
        return performance.now() - opened;
      }),
    );
    // Measured from the client's connect, which precedes the relay's upstream connect.
    expect(Math.min(...lifetimes)).toBeGreaterThanOrEqual(timeoutMs);
    // One period (200 ms) late at most, plus room for a loaded machine.
    expect(Math.max(...lifetimes)).toBeLessThan(timeoutMs + 200 + 1_500);
    await waitFor(
      async () =>
        (await metricValue(relay.registry, 'hairpin_relay_connections_total', {
          result: 'idle_timeout',
        })) === n,
    );
  }, 30_000);

  test('a connection that went silent mid-transfer is reset no earlier than the timeout', async () => {
    const timeoutMs = 600;
    let lastSent = 0;
    const { relay } = await pair(
      (s) => {
        s.on('error', () => {});
        s.write('partial');
        lastSent = performance.now();
      },
      { idleTimeoutMs: timeoutMs },
    );
    const client = await dial(relay.port);
    client.resume();
    const [err] = (await once(client, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNRESET');
    expect(performance.now() - lastSent).toBeGreaterThanOrEqual(timeoutMs);
  });
});

describe('randomized transfers, every byte both ways', () => {
  test.each(['v1', 'v2'] as const)(
    '300 concurrent connections with random chunks, stalls and half-closes (%s)',
    async (version) => {
      const exercise = randomExercise(version);
      const { relay } = await pair(exercise.onConnection, { proxyProtocol: version });
      const report = await exercise.run(relay.port, 300);
      expect(report.failures).toEqual([]);
      expect(report.checked).toBe(300);
      await waitFor(() => relay.relay.activeConnections() === 0, 10_000);
    },
    60_000,
  );
});
