import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { Registry, Counter } from 'prom-client';
import { afterEach, expect, test } from 'vitest';
import { StartupError } from '../errors.ts';
import { waitFor } from '@hairpin/testing';
import { ADMIN_MAX_CONNECTIONS, startAdminServer, type AdminServer } from './admin-server.ts';
import { silentLogger } from './logger.ts';

let admin: AdminServer | undefined;
afterEach(async () => {
  await admin?.stop();
  admin = undefined;
});

test('serves metrics, health and readiness on a real socket', async () => {
  const registry = new Registry();
  new Counter({ name: 'hairpin_test_things_total', help: 'things', registers: [registry] }).inc(3);
  let reason: string | null = 'warming up';
  admin = await startAdminServer({
    host: '127.0.0.1',
    port: 0,
    registry,
    notReadyReason: () => reason,
    log: silentLogger(),
  });
  const base = `http://127.0.0.1:${admin.address.port}`;

  const metrics = await fetch(`${base}/metrics`);
  expect(metrics.status).toBe(200);
  expect(await metrics.text()).toContain('hairpin_test_things_total 3');
  expect((await fetch(`${base}/healthz`)).status).toBe(200);

  const notReady = await fetch(`${base}/readyz`);
  expect(notReady.status).toBe(503);
  expect(await notReady.text()).toBe('not ready: warming up\n');
  reason = null;
  expect((await fetch(`${base}/readyz`)).status).toBe(200);
  expect((await fetch(`${base}/nope`)).status).toBe(404);
});

async function startIdleAdmin(options: { maxConnections?: number } = {}): Promise<AdminServer> {
  return startAdminServer({
    host: '127.0.0.1',
    port: 0,
    registry: new Registry(),
    notReadyReason: () => null,
    log: silentLogger(),
    ...options,
  });
}

/** Milliseconds until the server closes `socket`, or Infinity after `limitMs`. */
function closedWithin(socket: Socket, limitMs: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(Infinity), limitMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

async function open(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  await once(socket, 'connect');
  return socket;
}

test('a connection that sends nothing is closed within seconds, not at the 30 s sweep', async () => {
  admin = await startIdleAdmin();
  const accepted = once(admin.server, 'connection') as Promise<[Socket]>;
  const socket = await open(admin.address.port);
  const [serverSide] = await accepted;
  // The socket idle timeout (5 s): Node's headersTimeout starts only with a first byte.
  // Watched on the server's side: in about one run in three the client socket in this same
  // process did not see the close within 20 s, though the server's socket had closed at 5 s.
  expect(await closedWithin(serverSide, 20_000)).toBeLessThan(20_000);
  socket.destroy();
}, 30_000);

test('a client that trickles its headers (slowloris) is closed within seconds', async () => {
  admin = await startIdleAdmin();
  const socket = await open(admin.address.port);
  const request = 'GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(100);
  let i = 0;
  const trickle = setInterval(() => {
    if (!socket.destroyed && i < request.length) socket.write(request[i++]!);
  }, 200);
  try {
    expect(await closedWithin(socket, 20_000)).toBeLessThan(20_000);
  } finally {
    clearInterval(trickle);
  }
}, 30_000);

test('connections beyond the cap are closed at once; probes work again once they go', async () => {
  admin = await startIdleAdmin({ maxConnections: 4 });
  const port = admin.address.port;
  const idle = await Promise.all([1, 2, 3, 4].map(() => open(port)));
  const extra = await open(port);
  expect(await closedWithin(extra, 5_000)).toBeLessThan(5_000);
  for (const s of idle) s.destroy();
  await waitFor(
    async () =>
      (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok === true,
  );
  expect(ADMIN_MAX_CONNECTIONS).toBeLessThanOrEqual(64);
});

test('an address in use is a one-line StartupError naming the admin address', async () => {
  const taken = createServer();
  taken.listen(0, '127.0.0.1');
  await once(taken, 'listening');
  const port = (taken.address() as AddressInfo).port;
  try {
    const err = await startAdminServer({
      host: '127.0.0.1',
      port,
      registry: new Registry(),
      notReadyReason: () => null,
      log: silentLogger(),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StartupError);
    expect((err as StartupError).message).toBe(
      `cannot listen on admin address 127.0.0.1:${port}: address already in use (EADDRINUSE)`,
    );
  } finally {
    taken.close();
  }
});
