import { Registry } from 'prom-client';
import { afterEach, expect, test } from 'vitest';
import { startAdminServer, type AdminServer } from './admin-server.ts';
import { silentLogger } from './logger.ts';

let admin: AdminServer | undefined;
afterEach(async () => {
  await admin?.stop();
  admin = undefined;
});

test('extra JSON routes: the value of each call as JSON, a failure is a 500, others 404', async () => {
  let calls = 0;
  admin = await startAdminServer({
    host: '127.0.0.1',
    port: 0,
    registry: new Registry(),
    notReadyReason: () => null,
    jsonRoutes: {
      '/status': () => ({ calls: ++calls, hosts: ['shop.example.com'] }),
      '/broken': () => Promise.reject(new Error('no')),
    },
    log: silentLogger(),
  });
  const base = `http://127.0.0.1:${admin.address.port}`;

  const first = await fetch(`${base}/status?x=1`);
  expect(first.status).toBe(200);
  expect(first.headers.get('content-type')).toBe('application/json');
  expect(await first.json()).toEqual({ calls: 1, hosts: ['shop.example.com'] });
  expect(await (await fetch(`${base}/status`)).json()).toEqual({
    calls: 2,
    hosts: ['shop.example.com'],
  });
  expect((await fetch(`${base}/broken`)).status).toBe(500);
  expect((await fetch(`${base}/toString`)).status).toBe(404);
  expect((await fetch(`${base}/status`, { method: 'POST' })).status).toBe(405);
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
});
