import { Registry, Counter } from 'prom-client';
import { afterEach, expect, test } from 'vitest';
import { startAdminServer, type AdminServer } from './admin-server.ts';
import { silentLogger } from './logger.ts';

let admin: AdminServer | undefined;
afterEach(async () => {
  await admin?.close();
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
