// Transfers that must lose no byte and cut nothing alive (issue 20): an upstream that
// half-closes first and then reads slowly, a client that reads slowly and steadily through
// a short idle timeout, timeouts that never fire early, and a randomized run of hundreds of
// concurrent connections checked byte for byte both ways.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { binaryMissing } from '@hairpin/testing';
import { dial, metricValue, startTestRelay, waitFor, testCleanups } from './helpers.ts';
import { randomExercise } from './random-transfers.ts';

const cleanups = testCleanups();
afterEach(cleanups.run);
const { pair } = cleanups;

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const PYTHON = '/usr/bin/python3';
const slowUpstream = fileURLToPath(new URL('./slow-upstream.py', import.meta.url));

/** No python3: the test skips with a message, except in CI. */
const pythonMissing = () => binaryMissing(PYTHON, 'apt-get install python3-minimal', 'this test');

/**
 * The upstream of slow-upstream.py: a small receive buffer (and MSS), so the relay's writes
 * to it queue up in the relay; it greets, half-closes first, then reads at `rate` bytes a
 * second. `results` maps each header's source port to what arrived before the relay's FIN.
 */
async function startSlowUpstream(rcvbuf: number, rate: number) {
  const child = spawn(PYTHON, [slowUpstream, String(rcvbuf), String(rate)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(() => void child.kill('SIGKILL'));
  const results = new Map<number, { bytes: number; sha256: string }>();
  const lines = createInterface({ input: child.stdout });
  const [first] = (await once(lines, 'line')) as [string];
  lines.on('line', (line: string) => {
    const r = JSON.parse(line) as { port: number; bytes: number; sha256: string };
    results.set(r.port, r);
  });
  return { port: Number(first), results };
}

test('an upstream that half-closes first and reads slowly gets every byte of every upload', async (ctx) => {
  // The upstream greets, sends its FIN, then reads the upload slowly through a 4 KiB
  // receive buffer: the relay's queue to it is rarely empty. Each client uploads 2 MiB
  // (its last 256 KiB in one write) and half-closes; the client side, done both ways,
  // closes while the relay still holds bytes for the upstream. The relay before issue 20
  // destroyed the upstream then, and the upstream took the cut upload (its last tens of
  // KiB missing) for a complete one: 1 to 6 of these 48 uploads in every one of 5 runs.
  // Loopback's own buffers (megabytes) would hide it: through a Node upstream, or with
  // HAProxy in front of it, the old relay passed.
  const missing = pythonMissing();
  if (missing !== undefined) ctx.skip(missing);
  const n = 48;
  const size = 2 * 1024 * 1024;
  const upstream = await startSlowUpstream(4096, 2_000_000);
  const relay = await startTestRelay(upstream.port);
  cleanups.push(() => relay.close());
  const uploads = await Promise.all(
    Array.from({ length: n }, async () => {
      const client = await dial(relay.port);
      const greeting: Buffer[] = [];
      client.on('data', (c: Buffer) => greeting.push(c));
      await once(client, 'end');
      expect(Buffer.concat(greeting).toString()).toBe('hello\n');
      const upload = randomBytes(size);
      const tail = size - 256 * 1024;
      for (let at = 0; at < size;) {
        const len =
          at >= tail ? size - at : Math.min(tail - at, 1 + Math.floor(Math.random() * 96 * 1024));
        if (!client.write(upload.subarray(at, at + len))) await once(client, 'drain');
        at += len;
      }
      const port = client.localPort!;
      client.end();
      await once(client, 'close');
      return { port, digest: sha(upload) };
    }),
  );
  await waitFor(() => upstream.results.size === n, 20_000);
  const cut = uploads.filter(({ port, digest }) => upstream.results.get(port)?.sha256 !== digest);
  expect(cut.map(({ port }) => upstream.results.get(port)?.bytes)).toEqual([]);
  await waitFor(
    async () =>
      (await metricValue(relay.registry, 'hairpin_relay_connections_total', { result: 'ok' })) ===
      n,
  );
}, 30_000);

describe('idle timeout', () => {
  /**
   * Reads `socket` at `rate` bytes a second until `limit` bytes came, then stops reading;
   * resolves with what came, or rejects on an error (a reset) before that.
   */
  function readSlowly(socket: Socket, rate: number, limit: number): Promise<Buffer> {
    const started = Date.now();
    const chunks: Buffer[] = [];
    let got = 0;
    const allowed = (): boolean => got <= (rate * (Date.now() - started)) / 1000;
    return new Promise((resolve, reject) => {
      const timer = setInterval(() => allowed() && socket.resume(), 10);
      const onData = (c: Buffer): void => {
        chunks.push(c);
        got += c.length;
        if (got >= limit) {
          clearInterval(timer);
          socket.pause();
          socket.off('data', onData);
          resolve(Buffer.concat(chunks));
        } else if (!allowed()) socket.pause();
      };
      socket.on('data', onData);
      socket.once('error', (err) => (clearInterval(timer), reject(err)));
    });
  }

  test('a client reading slowly and steadily is never idle, a client that stops is', async () => {
    // The upstream sends 12 MiB; the client reads 3 MiB of it at 768 KiB/s through a 1 s
    // idle timeout, then stops. While it reads, the relay's writes wait on the kernel's
    // send buffer for longer than the timeout at a time (the reader takes bytes all
    // along); the rest of the 12 MiB keeps the relay's queue and the kernel's full, so
    // what the reader takes shows. Before, it was reset after a second or two. Once it
    // stops, it is cut by the timeout, with a reset. What is asserted holds on a loaded
    // machine: the reading may take longer, never be cut (a sweep pass that comes late,
    // after the event loop was blocked, cuts nothing), and the cut comes whenever the
    // sweep gets to it.
    const data = Buffer.alloc(12 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32BE(i, i);
    const { relay } = await pair((s) => s.end(data), { idleTimeoutMs: 1_000 });
    const idleTimeouts = (): Promise<number> =>
      metricValue(relay.registry, 'hairpin_relay_connections_total', { result: 'idle_timeout' });
    const client = await dial(relay.port);
    const reset = once(client, 'error') as Promise<[NodeJS.ErrnoException]>;
    const started = Date.now();
    const got = await readSlowly(client, 768 * 1024, 3 * 1024 * 1024);
    expect(Date.now() - started).toBeGreaterThan(2_000); // it did read slowly
    expect(sha(got)).toBe(sha(data.subarray(0, got.length)));
    expect(await idleTimeouts()).toBe(0);

    // Stopped: cut by the idle timeout, with a reset.
    await waitFor(async () => (await idleTimeouts()) === 1, 10_000);
    client.resume(); // reads what is left, then the reset
    const [err] = await reset;
    expect(err.code).toBe('ECONNRESET');
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
