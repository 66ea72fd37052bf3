// The built entrypoint against the fake API server through a real kubeconfig file: the
// controller runs, writes, stops on SIGTERM; `cleanup` removes everything it added.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { microTime } from '@hairpin/shared';
import { FakeApiServer, runNode } from '@hairpin/testing';
import { afterEach, expect, test } from 'vitest';
import {
  corednsConfigMap,
  ingress,
  kubeadmCorefile,
  managedIn,
  relayService,
  rule,
  waitFor,
  withHosts,
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
    await waitFor(() => managedIn(corefile()).includes('shop.example.com'), 15_000);
    expect(corefile()).toBe(withHosts(kubeadmCorefile, ['shop.example.com']));
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

async function withRules() {
  const fake = await FakeApiServer.start();
  fakes.push(fake);
  // What this version writes, and a rule an earlier version left: cleanup removes both.
  const withRule = withHosts(kubeadmCorefile, ['shop.example.com']).replace(
    '.:53 {\n',
    `.:53 {\n    ${rule('old.example.com')}\n`,
  );
  fake.create({ ...corednsConfigMap(), data: { Corefile: withRule } });
  fake.create({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'hairpin-hosts', namespace: 'hairpin' },
    data: { hosts: 'shop.example.com\n', relayIP: '10.96.0.50' },
  });
  const corefile = () =>
    (fake.get('v1', 'ConfigMap', 'kube-system', 'coredns')?.['data'] as { Corefile: string })
      .Corefile;
  const env = { KUBECONFIG: fake.kubeconfigFile(), POD_NAMESPACE: 'hairpin' };
  return { fake, corefile, withRule, env };
}

test('cleanup refuses while a controller holds a fresh Lease; --force overrides', async () => {
  const { fake, corefile, withRule, env } = await withRules();
  fake.create({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'hairpin-dns-controller', namespace: 'hairpin' },
    spec: {
      holderIdentity: 'hairpin-dns-controller-7d9f-abcde',
      leaseDurationSeconds: 15,
      renewTime: microTime(new Date(Date.now() - 2_000)),
    },
  });
  const refused = await runNode(main, ['cleanup'], { env });
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(
    /^cleanup: the controller is running \(lease held by hairpin-dns-controller-7d9f-abcde, renewed ([2-9]|1[0-4]) s ago\): scale it to 0 first\n$/,
  );
  expect(refused.stdout).toBe('');
  expect(corefile()).toBe(withRule);
  expect(fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);

  const forced = await runNode(main, ['cleanup', '--force'], { env });
  expect(forced.stderr).toBe('');
  expect(forced.code).toBe(0);
  expect(corefile()).toBe(kubeadmCorefile);
  expect(fake.get('v1', 'ConfigMap', 'hairpin', 'hairpin-hosts')).toBeUndefined();
}, 30_000);

test('cleanup re-reads and retries a 409; API errors are one line, never a dump', async () => {
  const { fake, corefile, env } = await withRules();
  // A released Lease (what a controller leaves on SIGTERM) does not stop cleanup.
  fake.create({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'hairpin-dns-controller', namespace: 'hairpin' },
    spec: { holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(new Date()) },
  });
  fake.failNext(2, 409, /configmaps\/coredns$/, 'PUT');
  const retried = await runNode(main, ['cleanup'], { env });
  expect(retried.stderr).toBe('');
  expect(retried.code).toBe(0);
  expect(corefile()).toBe(kubeadmCorefile);
  const reads = fake.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/coredns'));
  expect(reads).toHaveLength(3);

  fake.failNext(10, 403, /configmaps/);
  const denied = await runNode(main, ['cleanup'], { env });
  expect(denied.code).toBe(1);
  const lines = denied.stderr.trimEnd().split('\n');
  expect(lines).toEqual([
    'cleanup: kube-system/coredns: HTTP 403 Forbidden: injected failure',
    'cleanup: hairpin/hairpin-hosts: HTTP 403 Forbidden: injected failure',
  ]);

  fake.clearFailures();
  fake.failNext(1, 403, /leases/);
  const unknown = await runNode(main, ['cleanup'], { env });
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toBe(
    'cleanup: cannot tell whether the controller is running (lease hairpin/hairpin-dns-controller: HTTP 403 Forbidden: injected failure); --force skips this check\n',
  );
}, 30_000);

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
