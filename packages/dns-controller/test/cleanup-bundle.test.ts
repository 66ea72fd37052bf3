// The built entrypoint against the fake API server through a real kubeconfig file: the
// controller runs, writes, stops on SIGTERM; `cleanup` removes everything it added.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FakeApiServer, runNode } from '@hairpin/testing';
import { afterEach, expect, test } from 'vitest';
import {
  corednsConfigMap,
  ingress,
  kubeadmCorefile,
  relayService,
  rule,
  waitFor,
} from './harness.ts';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const fakes: FakeApiServer[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.stop();
});

test('run, SIGTERM, then cleanup: rules and hairpin-hosts gone, the Corefile as it was', async () => {
  expect(existsSync(main), 'run `pnpm build` first (pnpm test does)').toBe(true);
  const fake = await FakeApiServer.start();
  fakes.push(fake);
  fake.create(corednsConfigMap());
  fake.create(relayService());
  fake.create(ingress('shop', ['shop.example.com']));
  const env = {
    KUBECONFIG: fake.kubeconfigFile(),
    POD_NAMESPACE: 'hairpin',
    POD_NAME: 'pod-a',
    ADMIN_ADDR: '127.0.0.1:0',
  };

  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  child.stdout.on('data', (c: Buffer) => (logs += c.toString()));
  child.stderr.on('data', (c: Buffer) => (logs += c.toString()));
  const corefile = () =>
    (fake.get('v1', 'ConfigMap', 'kube-system', 'coredns')?.['data'] as { Corefile: string })
      .Corefile;
  try {
    await waitFor(() => corefile().includes(rule('shop.example.com')), 15_000);
    await waitFor(() => fake.get('v1', 'ConfigMap', 'hairpin', 'hairpin-hosts') !== undefined);
  } finally {
    child.kill('SIGTERM');
  }
  const [code] = (await once(child, 'exit')) as [number];
  expect(code).toBe(0);
  expect(logs).toContain('"msg":"became leader"');
  expect(logs).toContain('"msg":"leadership released"');

  const cleanup = await runNode(main, ['cleanup'], { env });
  expect(cleanup.stderr).toBe('');
  expect(cleanup.code).toBe(0);
  expect(corefile()).toBe(kubeadmCorefile);
  expect(fake.get('v1', 'ConfigMap', 'hairpin', 'hairpin-hosts')).toBeUndefined();
  // Idempotent.
  expect((await runNode(main, ['cleanup'], { env })).code).toBe(0);
}, 40_000);

test('bad configuration exits 2 with every problem', async () => {
  const r = await runNode(main, [
    '--sources',
    'tls,annotations',
    '--coredns-configmap',
    'nonsense',
    '--gateway-api',
    'maybe',
  ]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('unknown source "annotations"');
  expect(r.stderr).toContain('--coredns-configmap "nonsense" is not NAMESPACE/NAME[:KEY]');
  expect(r.stderr).toContain('--gateway-api must be auto or off');
});
