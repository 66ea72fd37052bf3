// The relay against real sockets on loopback: header, half-close, integrity, backpressure,
// failures, limits.
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, test } from 'vitest';
import {
  dial,
  metricValue,
  readAll,
  startBlackhole,
  startReceiver,
  startTestRelay,
  waitFor,
  testCleanups,
} from './helpers.ts';

const cleanups = testCleanups();
afterEach(cleanups.run);
const { pair } = cleanups;

describe('header and bytes', () => {
  test.each(['v1', 'v2'] as const)(
    'PROXY %s header carries the client address, then the bytes untouched',
    async (version) => {
      const { receiver, relay } = await pair((s) => s.pipe(s), { proxyProtocol: version });
      const client = await dial(relay.port);
      const clientPort = client.localPort;
      const payload = randomBytes(4096);
      client.end(payload);
      const echoed = await readAll(client);
      expect(echoed.equals(payload)).toBe(true);
      expect(receiver.headers).toEqual([
        {
          version,
          sourceAddress: '127.0.0.1',
          sourcePort: clientPort,
          destinationAddress: '127.0.0.1',
          destinationPort: relay.port,
        },
      ]);
    },
  );

  test('the header is the very first bytes and exact (raw upstream)', async () => {
    const raw: Buffer[] = [];
    const { createServer } = await import('node:net');
    const server = createServer((s) => {
      s.on('data', (c: Buffer) => raw.push(c));
      s.on('error', () => {}); // the relay's close(0) resets what is still open
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => void server.close());
    const relay = await startTestRelay((server.address() as { port: number }).port);
    cleanups.push(() => relay.close());
    const client = await dial(relay.port);
    client.write('hello');
    await waitFor(() => Buffer.concat(raw).includes('hello'));
    // One write: the corked header leaves with the client's first bytes.
    expect(raw.map(String)).toEqual([
      `PROXY TCP4 127.0.0.1 127.0.0.1 ${client.localPort} ${relay.port}\r\nhello`,
    ]);
    client.destroy();
  });

  test('server-speaks-first: the upstream greets before the client sends anything', async () => {
    const { relay } = await pair((s) => s.end('220 ready\r\n'));
    const client = await dial(relay.port);
    expect((await readAll(client)).toString()).toBe('220 ready\r\n');
  });

  test('IPv6 on ::1 (v2)', async (ctx) => {
    const receiver = await startReceiver((s) => s.end('ok'), '::1').catch(() => undefined);
    if (receiver === undefined) ctx.skip('no IPv6 loopback on this machine');
    cleanups.push(() => receiver!.close());
    const relay = await startTestRelay(receiver!.port, {
      listenHost: '::1',
      targetHost: '::1',
      proxyProtocol: 'v2',
    });
    cleanups.push(() => relay.close());
    const client = await dial(relay.port, '::1');
    expect((await readAll(client)).toString()).toBe('ok');
    expect(receiver!.headers[0]).toMatchObject({
      version: 'v2',
      sourceAddress: '::1',
      sourcePort: client.localPort,
    });
  });
});

describe('half-close', () => {
  test("the client's FIN reaches the upstream, and the reply still comes back", async () => {
    let upstreamSawEnd = false;
    const { relay } = await pair((s) => {
      const chunks: Buffer[] = [];
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('end', () => {
        upstreamSawEnd = true;
        // Reply after the client has finished sending, as `nc -N`-style clients expect.
        setTimeout(() => s.end(`got ${Buffer.concat(chunks).toString()}`), 50);
      });
    });
    const client = await dial(relay.port);
    client.end('question');
    const reply = await readAll(client);
    expect(upstreamSawEnd).toBe(true);
    expect(reply.toString()).toBe('got question');
  });

  test("the upstream's FIN reaches the client, which can still send", async () => {
    const received: Buffer[] = [];
    const { relay } = await pair((s) => {
      s.write('bye');
      s.end();
      s.on('data', (c: Buffer) => received.push(c));
    });
    const client = await dial(relay.port);
    client.resume();
    await once(client, 'end');
    client.end('late data');
    await waitFor(() => Buffer.concat(received).toString() === 'late data');
  });
});

describe('integrity and backpressure', () => {
  test('32 MiB each way, checksums equal', async () => {
    const size = 32 * 1024 * 1024;
    const up = randomBytes(size);
    const down = randomBytes(size);
    let upstreamDigest = '';
    const { relay } = await pair((s) => {
      const hash = createHash('sha256');
      s.on('data', (c: Buffer) => hash.update(c));
      s.on('end', () => {
        upstreamDigest = hash.digest('hex');
      });
      s.end(down);
    });
    const client = await dial(relay.port);
    client.end(up);
    const got = await readAll(client);
    expect(createHash('sha256').update(got).digest('hex')).toBe(
      createHash('sha256').update(down).digest('hex'),
    );
    await waitFor(() => upstreamDigest !== '');
    expect(upstreamDigest).toBe(createHash('sha256').update(up).digest('hex'));
    await waitFor(
      async () =>
        (await metricValue(relay.registry, 'hairpin_relay_bytes_total', {
          direction: 'client_to_upstream',
        })) === size,
    );
    expect(
      await metricValue(relay.registry, 'hairpin_relay_bytes_total', {
        direction: 'upstream_to_client',
      }),
    ).toBe(size);
  });

  test("Node asks for a socket's next onread buffer right after each read callback", async () => {
    // What the relay's own read buffers rely on (relay.ts, nextReadBuffer): the buffer
    // function runs once when the socket starts and then right after every callback of that
    // same socket, never in between. Should a Node version change this, this test fails.
    const server = createServer((s) => {
      let n = 0;
      const timer = setInterval(() => {
        s.write(Buffer.alloc(100, n));
        if (++n === 5) {
          clearInterval(timer);
          s.end();
        }
      }, 5);
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => void server.close());
    const events: string[] = [];
    const buffer = Buffer.alloc(1024);
    const socket = connect({
      port: (server.address() as AddressInfo).port,
      host: '127.0.0.1',
      onread: {
        buffer: () => (events.push('buffer'), buffer),
        callback: () => {
          events.push('read');
          return true;
        },
      },
    });
    await once(socket, 'end');
    socket.destroy();
    const reads = events.filter((e) => e === 'read').length;
    expect(reads).toBeGreaterThan(0);
    expect(events).toEqual(['buffer', ...Array<string[]>(reads).fill(['read', 'buffer']).flat()]);
  });

  test('concurrent bulk and trickling transfers with stalling readers: every stream exact', async () => {
    // Small upstream reads share one buffer and are copied out; large ones go out without
    // a copy from a buffer of the connection's own. Bulk readers that stall make writes
    // queue while trickling streams keep reading meanwhile: a buffer reused while a queued
    // write still points into it shows up as a wrong checksum.
    const bulk = Array.from({ length: 4 }, () => randomBytes(4 * 1024 * 1024));
    const trickle = Array.from({ length: 8 }, () => randomBytes(200 * 1000));
    const { relay } = await pair((s) => {
      s.once('data', (c: Buffer) => {
        const which = c.readUInt8(0);
        if (which < bulk.length) {
          s.end(bulk[which]!);
          return;
        }
        const data = trickle[which - bulk.length]!;
        let at = 0;
        const timer = setInterval(() => {
          s.write(data.subarray(at, at + 1000));
          at += 1000;
          if (at >= data.length) {
            clearInterval(timer);
            s.end();
          }
        }, 1);
      });
    });
    const fetch = async (which: number, stall: boolean): Promise<Buffer> => {
      const client = await dial(relay.port);
      client.write(Buffer.from([which]));
      const chunks: Buffer[] = [];
      let n = 0;
      const stallFor = (ms: number): void => {
        client.pause();
        setTimeout(() => client.resume(), ms);
      };
      if (stall) stallFor(100);
      client.on('data', (c: Buffer) => {
        chunks.push(c);
        if (stall && ++n % 16 === 0) stallFor(20);
      });
      await once(client, 'end');
      client.end();
      return Buffer.concat(chunks);
    };
    const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    const got = await Promise.all([
      ...bulk.map((_, i) => fetch(i, true)),
      ...trickle.map((_, i) => fetch(bulk.length + i, false)),
    ]);
    expect(got.map(digest)).toEqual([...bulk, ...trickle].map(digest));
  });

  /**
   * Offers 256 MiB to `socket` in 64 KiB writes, honouring backpressure; `written` counts
   * what write() took so far.
   */
  function offer(socket: Socket): { written: () => number; blocked: () => boolean } {
    let written = 0;
    let blocked = false;
    const chunk = Buffer.alloc(64 * 1024, 7);
    const pump = (): void => {
      while (written < 256 * 1024 * 1024) {
        written += chunk.length;
        if (!socket.write(chunk)) {
          blocked = true;
          socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
    return { written: () => written, blocked: () => blocked };
  }

  /** Once blocked, nothing more moves, and what moved is bounded by buffers, not the offer. */
  async function expectStalled(offered: ReturnType<typeof offer>): Promise<void> {
    await waitFor(offered.blocked);
    await new Promise((r) => setTimeout(r, 300));
    const stalledAt = offered.written();
    await new Promise((r) => setTimeout(r, 300));
    expect(offered.written()).toBe(stalledAt);
    expect(offered.written()).toBeLessThan(32 * 1024 * 1024);
  }

  test('a slow reader stops the upstream instead of growing memory', async () => {
    let upstream: ReturnType<typeof offer> | undefined;
    const { relay } = await pair((s) => (upstream = offer(s)));
    const client = await dial(relay.port);
    client.pause(); // the reader that never reads
    await waitFor(() => upstream !== undefined);
    // Socket buffers and stream high-water marks hold what moved, not the 256 MiB.
    await expectStalled(upstream!);
    client.destroy();
  });

  test('an ingress that does not read stops the client instead of growing memory', async () => {
    // The receiver resumes the socket after the header; it stops reading right after.
    const { relay } = await pair((s) => setImmediate(() => s.pause()));
    const client = await dial(relay.port);
    // Writes to the ingress are corked for a loop turn at a time; past the high-water mark
    // the relay still stops reading the client.
    await expectStalled(offer(client));
    client.destroy();
  });
});

describe('failures', () => {
  test('an upstream that refuses: the client is closed promptly, counted by reason', async () => {
    const { createServer } = await import('node:net');
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const deadPort = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const relay = await startTestRelay(deadPort);
    cleanups.push(() => relay.close());
    const client = await dial(relay.port);
    const started = Date.now();
    expect((await readAll(client)).length).toBe(0);
    expect(Date.now() - started).toBeLessThan(1_000);
    await waitFor(
      async () =>
        (await metricValue(relay.registry, 'hairpin_relay_connections_total', {
          result: 'upstream_refused',
        })) === 1,
    );
  });

  test('a blackholed upstream: connect timeout closes the client', async () => {
    const blackhole = await startBlackhole();
    cleanups.push(() => blackhole.close());
    const port = blackhole.port;
    const relay = await startTestRelay(port, { connectTimeoutMs: 300 });
    cleanups.push(() => relay.close());
    const client = await dial(relay.port);
    const started = Date.now();
    await readAll(client);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(3_000);
    await waitFor(
      async () =>
        (await metricValue(relay.registry, 'hairpin_relay_connections_total', {
          result: 'upstream_timeout',
        })) === 1,
    );
  });

  test('a target that resolves only later: not ready, connections closed, then it works', async () => {
    const receiver = await startReceiver((s) => s.end('ok'));
    cleanups.push(() => receiver.close());
    let resolvable = false;
    let lookups = 0;
    const relay = await startTestRelay(receiver.port, {
      targetHost: 'ingress-nginx-controller.ingress-nginx.svc.cluster.local',
      resolveIntervalMs: 100,
      lookup: async () => {
        lookups++;
        if (!resolvable)
          throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
        return ['127.0.0.1'];
      },
    });
    cleanups.push(() => relay.close());
    await waitFor(() => lookups > 0);
    expect(relay.relay.notReadyReason()).toMatch(/does not resolve/);
    const early = await dial(relay.port);
    expect((await readAll(early)).length).toBe(0);
    expect(
      await metricValue(relay.registry, 'hairpin_relay_connections_total', {
        result: 'no_upstream',
      }),
    ).toBe(1);
    resolvable = true;
    await waitFor(() => relay.relay.notReadyReason() === null);
    const late = await dial(relay.port);
    expect((await readAll(late)).toString()).toBe('ok');
  });

  test('every resolved address is used; a dead one is skipped', async () => {
    const receiver = await startReceiver((s) => s.end('ok'));
    cleanups.push(() => receiver.close());
    const relay = await startTestRelay(receiver.port, {
      targetHost: 'ingress.example',
      // 127.0.0.2 is loopback too, but nothing listens there on this port.
      lookup: async () => ['127.0.0.2', '127.0.0.1'],
    });
    cleanups.push(() => relay.close());
    await waitFor(() => relay.relay.notReadyReason() === null);
    for (let i = 0; i < 4; i++) {
      const client = await dial(relay.port);
      expect((await readAll(client)).toString()).toBe('ok');
    }
    expect(receiver.headers).toHaveLength(4);
  });

  test('the connection limit closes extra connections at once and counts them', async () => {
    const { relay } = await pair(() => {}, { maxConnections: 2 });
    const a = await dial(relay.port);
    const b = await dial(relay.port);
    await waitFor(() => relay.relay.activeConnections() === 2);
    const c = await dial(relay.port);
    expect((await readAll(c)).length).toBe(0);
    await waitFor(
      async () =>
        (await metricValue(relay.registry, 'hairpin_relay_connections_total', {
          result: 'rejected_limit',
        })) === 1,
    );
    expect(
      await metricValue(relay.registry, 'hairpin_relay_active_connections', { route: 'test' }),
    ).toBe(2);
    a.destroy();
    b.destroy();
  });

  test('memory at its ceiling refuses new connections (counted), open ones go on; below it, accepted again', async () => {
    let inUse = 100;
    const { relay } = await pair((s) => s.pipe(s), {
      connectTimeoutMs: 400, // a sweep pass every 100 ms checks the memory
      memoryGuard: { ceiling: 200, inUse: () => inUse },
    });
    /** A new connection's fate: echoed (relayed), or closed at once (refused). */
    const relayed = async (): Promise<boolean> => {
      const c = await dial(relay.port);
      c.on('error', () => {});
      c.write('x');
      const echoed = await Promise.race([
        once(c, 'data').then(() => true),
        readAll(c).then(
          () => false,
          () => false,
        ),
      ]);
      c.destroy();
      return echoed;
    };
    const rejected = async (): Promise<number> =>
      metricValue(relay.registry, 'hairpin_relay_connections_total', { result: 'rejected_limit' });
    const open = await dial(relay.port);
    await waitFor(() => relay.relay.activeConnections() === 1);
    inUse = 200;
    // Refused from the first sweep pass that sees it (one made before that pass is relayed).
    await waitFor(async () => !(await relayed()));
    expect(await rejected()).toBeGreaterThan(0);
    open.write('still relayed');
    expect(((await once(open, 'data')) as [Buffer])[0].toString()).toBe('still relayed');
    inUse = 199;
    await waitFor(relayed);
    open.destroy();
  });

  test('an idle connection is closed after the idle timeout', async () => {
    const { relay } = await pair(() => {}, { idleTimeoutMs: 200 });
    const client = await dial(relay.port);
    const started = Date.now();
    await readAll(client);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    await waitFor(
      async () =>
        (await metricValue(relay.registry, 'hairpin_relay_connections_total', {
          result: 'idle_timeout',
        })) === 1,
    );
  });

  test('the idle timeout resets a connection cut mid-transfer (no clean FIN)', async () => {
    let upstreamError = '';
    // Half a response, then silence: the client must not take it for a complete one.
    const { relay } = await pair(
      (s) => {
        s.write('HTTP/1.0 200 OK\r\n\r\npart of the bo');
        s.on('error', (err: NodeJS.ErrnoException) => (upstreamError = err.code ?? ''));
      },
      { idleTimeoutMs: 200 },
    );
    const client = await dial(relay.port);
    client.write('GET / HTTP/1.0\r\n\r\n');
    await expect(readAll(client)).rejects.toMatchObject({ code: 'ECONNRESET' });
    await waitFor(() => upstreamError === 'ECONNRESET');
    expect(
      await metricValue(relay.registry, 'hairpin_relay_connections_total', {
        result: 'idle_timeout',
      }),
    ).toBe(1);
  });

  test('clients that reset before they are handled are dropped, never sent with a made-up address', async () => {
    const raw: Buffer[] = [];
    const { createServer } = await import('node:net');
    const server = createServer((s) => {
      s.on('data', (c: Buffer) => raw.push(c));
      s.on('error', () => {});
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => void server.close());
    const relay = await startTestRelay((server.address() as { port: number }).port);
    cleanups.push(() => relay.close());
    // A child connects 100 times and resets each connection, while this process (and the
    // relay in it) is blocked: the relay then accepts connections that are already gone.
    const n = 100;
    const child = spawnSync(
      process.execPath,
      [
        '-e',
        `const net=require('net');let n=0;for(let i=0;i<${n};i++){const s=net.connect(${relay.port},'127.0.0.1',()=>{s.resetAndDestroy();if(++n===${n})setTimeout(()=>process.exit(0),100)});s.on('error',()=>{})}`,
      ],
      { timeout: 10_000 },
    );
    expect(child.status).toBe(0);
    const counted = async (result: string): Promise<number> =>
      metricValue(relay.registry, 'hairpin_relay_connections_total', { result });
    await waitFor(
      async () =>
        (await counted('no_client_address')) +
          (await counted('client_error')) +
          (await counted('ok')) ===
        n,
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(Buffer.concat(raw).toString()).not.toContain('0.0.0.0');
    expect(await counted('no_client_address')).toBeGreaterThan(0);
  });

  test('a client reset closes the upstream too', async () => {
    let upstreamClosed = false;
    // The upstream sees the relay's side go away (end or reset).
    const { relay } = await pair((s) => {
      s.on('end', () => (upstreamClosed = true));
      s.on('error', () => (upstreamClosed = true));
    });
    const client = await dial(relay.port);
    client.write('x');
    await waitFor(() => relay.relay.activeConnections() === 1);
    await new Promise((r) => setTimeout(r, 50));
    client.resetAndDestroy();
    await waitFor(() => upstreamClosed);
    await waitFor(() => relay.relay.activeConnections() === 0);
  });
});

test('thousands of concurrent connections, each exact', async () => {
  const { relay } = await pair((s) => s.pipe(s));
  const n = 2000;
  const clients = await Promise.all(Array.from({ length: n }, () => dial(relay.port)));
  await waitFor(() => relay.relay.activeConnections() === n, 20_000).catch((e: Error) => {
    throw new Error(`${e.message}: ${relay.relay.activeConnections()} of ${n} open`);
  });
  const results = await Promise.all(
    clients.map(async (c, i) => {
      const msg = `connection ${i} ${'x'.repeat(i % 100)}`;
      c.end(msg);
      return (await readAll(c)).toString() === msg;
    }),
  );
  expect(results.every(Boolean)).toBe(true);
  await waitFor(() => relay.relay.activeConnections() === 0, 20_000);
  expect(
    await metricValue(relay.registry, 'hairpin_relay_connections_total', { result: 'ok' }),
  ).toBe(n);
}, 60_000);
