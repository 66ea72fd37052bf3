// Test support for the relay: real sockets on loopback, port 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, expect } from 'vitest';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Registry } from 'prom-client';
import { silentLogger } from '@hairpin/shared/runtime';
import { createRelayMetrics } from '../src/metrics.ts';
import { createRelay, type Relay, type RelayOptions } from '../src/relay.ts';
import { readProxyHeader, type ReceivedHeader } from '../src/proxy-receiver.ts';

export const LOOPBACK4 = '127.0.0.1';

/** An upstream that reads the PROXY header, then hands the socket to `onConnection`. */
export interface Receiver {
  readonly server: Server;
  readonly port: number;
  readonly headers: ReceivedHeader[];
  close(): Promise<void>;
}

export async function startReceiver(
  onConnection: (socket: Socket, header: ReceivedHeader) => void,
  host = LOOPBACK4,
): Promise<Receiver> {
  const headers: ReceivedHeader[] = [];
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    readProxyHeader(socket).then(
      (header) => {
        headers.push(header);
        onConnection(socket, header);
        socket.resume();
      },
      () => socket.destroy(),
    );
  });
  server.listen({ port: 0, host, backlog: 4096 });
  await once(server, 'listening');
  return {
    server,
    port: (server.address() as AddressInfo).port,
    headers,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/**
 * A listener whose process never accepts: once its accept queue is full the kernel drops
 * further SYNs, so a connect to it hangs, on loopback (a blackholed upstream).
 */
export async function startBlackhole(
  host = LOOPBACK4,
  port = 0,
): Promise<{ readonly port: number; close(): void }> {
  const listen = JSON.stringify({ host, port, backlog: 1 });
  const child = spawn(process.execPath, [
    '-e',
    `const s=require('net').createServer();s.listen(${listen},()=>{console.log(s.address().port);setTimeout(()=>Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0,60000),50)})`,
  ]);
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  const bound = Number(line.toString().trim());
  await new Promise((r) => setTimeout(r, 200));
  const fillers: Socket[] = [];
  for (let i = 0; i < 8; i++) {
    const f = connect({ port: bound, host });
    f.on('error', () => {});
    fillers.push(f);
  }
  await new Promise((r) => setTimeout(r, 300));
  return {
    port: bound,
    close() {
      for (const f of fillers) f.destroy();
      child.kill('SIGKILL');
    },
  };
}

export interface TestRelay {
  readonly relay: Relay;
  readonly registry: Registry;
  readonly port: number;
  close(): Promise<void>;
}

export async function startTestRelay(
  targetPort: number,
  overrides: Partial<RelayOptions> & { listenHost?: string; targetHost?: string } = {},
): Promise<TestRelay> {
  const registry = new Registry();
  const listenHost = overrides.listenHost ?? LOOPBACK4;
  const relay = createRelay({
    routes: [
      {
        name: 'test',
        listenHost,
        listenPort: 0,
        targetHost: overrides.targetHost ?? LOOPBACK4,
        targetPort,
      },
    ],
    proxyProtocol: 'v1',
    connectTimeoutMs: 2_000,
    idleTimeoutMs: 30_000,
    maxConnections: 10_000,
    resolveIntervalMs: 60_000,
    log: silentLogger(),
    metrics: createRelayMetrics(registry),
    ...overrides,
  });
  await relay.start();
  return {
    relay,
    registry,
    port: relay.addresses().get('test')!.port,
    close: () => relay.stop(0),
  };
}

export async function dial(port: number, host = LOOPBACK4): Promise<Socket> {
  const socket = connect({ port, host, allowHalfOpen: true });
  await once(socket, 'connect');
  return socket;
}

/** Everything the socket sends until it ends (or closes). */
export function readAll(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('close', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  const match = metric?.values.find((v) =>
    Object.entries(labels).every(
      ([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want,
    ),
  );
  return match?.value ?? 0;
}

/**
 * Things to close after each test, last first (`afterEach(cleanups.run)` in the test file),
 * and a receiver with a relay in front of it, both closed that way.
 */
export function testCleanups() {
  const list: (() => Promise<void> | void)[] = [];
  return {
    push: (c: () => Promise<void> | void): void => void list.push(c),
    run: async (): Promise<void> => {
      for (const c of list.splice(0).reverse()) await c();
    },
    /** A receiver answering with `onConnection`, and a relay routed to it. */
    pair: async (
      onConnection: Parameters<typeof startReceiver>[0],
      options: Parameters<typeof startTestRelay>[1] = {},
    ): Promise<{ receiver: Receiver; relay: TestRelay }> => {
      const receiver = await startReceiver(onConnection);
      list.push(() => receiver.close());
      const relay = await startTestRelay(receiver.port, options);
      list.push(() => relay.close());
      return { receiver, relay };
    },
  };
}

/**
 * For tests of the built bundle (`dist/main.js`, which `pnpm test` builds first): its path,
 * and the processes and receivers a test started, killed and closed after each test.
 */
export function builtRelay(): {
  readonly main: string;
  readonly children: ChildProcess[];
  readonly receivers: Receiver[];
} {
  const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
  const children: ChildProcess[] = [];
  const receivers: Receiver[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
    for (const r of receivers.splice(0)) await r.close();
  });
  beforeAll(() => {
    expect(existsSync(main), 'run `pnpm build` first (pnpm test does)').toBe(true);
  });
  return { main, children, receivers };
}

export { waitFor } from '@hairpin/testing';
