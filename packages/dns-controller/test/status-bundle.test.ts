// The status view end to end: the built controller against the fake API server through a
// kubeconfig file serves /status on its admin port (managed, rejected, proxy-skipped and
// class-filtered hosts with their objects; the ConfigMaps it wrote; leadership), and the
// `status` command reads the same cluster from outside (human table and JSON), failing
// with one line when it is forbidden or cannot reach the API server.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { managedCorefileHosts } from '@hairpin/shared';
import { FakeApiServer, runNode, waitFor } from '@hairpin/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ClusterStatus } from '../src/cluster-status.ts';
import type { StatusReport } from '../src/status.ts';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const RELAY = 'hairpin-relay.hairpin.svc.cluster.local';
const COREFILE = `.:53 {
    errors
    health
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
    }
    forward . /etc/resolv.conf
    cache 30
}
`;

const configMap = (name: string, corefile: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'kube-system' },
  data: { Corefile: corefile },
});
const ingress = (name: string, className: string, hosts: string[], status?: unknown) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name, namespace: 'shop' },
  spec: { ingressClassName: className, rules: hosts.map((host) => ({ host })) },
  ...(status === undefined ? {} : { status }),
});
const gateway = (name: string, className: string, hostname: string) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name, namespace: 'infra' },
  spec: { gatewayClassName: className, listeners: [{ name: 'https', hostname }] },
});

let fake: FakeApiServer;
let child: ChildProcess;
let logs = '';
let env: Record<string, string>;
let base: string;

beforeAll(async () => {
  expect(existsSync(main), 'run `pnpm build` first (pnpm test does)').toBe(true);
  fake = await FakeApiServer.start({ bookmarkIntervalMs: 200 });
  fake.installGatewayApi();
  fake.create(configMap('coredns', COREFILE));
  fake.create(configMap('broken', '.:53 {\n    errors\n')); // unclosed block: never edited
  fake.create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'hairpin-relay', namespace: 'hairpin' },
    spec: { clusterIP: '10.96.0.50', ports: [{ port: 80 }] },
  });
  fake.create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'lb', namespace: 'ingress' },
    spec: { type: 'LoadBalancer' },
    status: { loadBalancer: { ingress: [{ ip: '203.0.113.10', ipMode: 'Proxy' }] } },
  });
  fake.create(ingress('shop', 'nginx', ['shop.example.com', 'www.example.com']));
  fake.create(ingress('shop-api', 'nginx', ['SHOP.example.com']));
  fake.create(ingress('evil', 'nginx', ['kubernetes.default.svc.cluster.local']));
  fake.create(
    ingress('behind-lb', 'nginx', ['proxied.example.com'], {
      loadBalancer: { ingress: [{ ip: '203.0.113.10' }] },
    }),
  );
  fake.create(ingress('internal', 'traefik', ['internal.example.com']));
  fake.create(gateway('public', 'cilium', '*.apps.example.com'));
  fake.create(gateway('other', 'istio', 'gw.example.com'));
  fake.create({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'route', namespace: 'shop' },
    spec: { parentRefs: [{ name: 'other', namespace: 'infra' }], hostnames: ['route.example.com'] },
  });
  env = {
    KUBECONFIG: fake.kubeconfigFile(),
    POD_NAMESPACE: 'hairpin',
    POD_NAME: 'pod-a',
    ADMIN_ADDR: '127.0.0.1:0',
    INGRESS_CLASSES: 'nginx',
    GATEWAY_CLASSES: 'cilium',
    COREDNS_CONFIGMAPS: 'kube-system/coredns,kube-system/broken',
  };
  child = spawn(process.execPath, [main], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => (logs += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (logs += c.toString()));
  await waitFor(() => /"address":"127\.0\.0\.1:\d+","msg":"admin server listening"/.test(logs));
  base = `http://${/"address":"(127\.0\.0\.1:\d+)","msg":"admin server listening"/.exec(logs)![1]}`;
  const corefile = () =>
    (fake.get('v1', 'ConfigMap', 'kube-system', 'coredns')?.['data'] as { Corefile: string })
      .Corefile;
  await waitFor(
    () =>
      managedCorefileHosts(corefile(), { target: RELAY }).includes('shop.example.com') &&
      fake.get('v1', 'ConfigMap', 'hairpin', 'hairpin-hosts') !== undefined &&
      fake.list('v1', 'Event').some((e) => e['reason'] === 'HostnameRefused'),
    15_000,
  );
}, 30_000);

afterAll(async () => {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
  await fake.stop();
});

test('/status: every host with its state and objects, the ConfigMaps written, leadership', async () => {
  const res = await fetch(`${base}/status`);
  expect(res.status).toBe(200);
  const status = (await res.json()) as StatusReport;
  expect(status).toMatchObject({ identity: 'pod-a', leader: true, synced: true });
  const row = (host: string, state: string) =>
    status.hosts.find((h) => h.host === host && h.state === state);

  expect(row('shop.example.com', 'managed')?.sources).toEqual([
    { kind: 'Ingress', namespace: 'shop', name: 'shop' },
    { kind: 'Ingress', namespace: 'shop', name: 'shop-api' },
  ]);
  expect(row('*.apps.example.com', 'managed')?.sources).toEqual([
    { kind: 'Gateway', namespace: 'infra', name: 'public' },
  ]);
  expect(row('kubernetes.default.svc.cluster.local', 'rejected')).toMatchObject({
    reason: 'cluster_domain',
    sources: [{ kind: 'Ingress', namespace: 'shop', name: 'evil' }],
  });
  expect(row('proxied.example.com', 'skipped')).toMatchObject({
    reason: 'ipmode_proxy',
    sources: [{ kind: 'Ingress', namespace: 'shop', name: 'behind-lb' }],
  });
  expect(row('internal.example.com', 'filtered')).toMatchObject({
    reason: 'ingress_class',
    sources: [{ kind: 'Ingress', namespace: 'shop', name: 'internal' }],
  });
  expect(row('gw.example.com', 'filtered')).toMatchObject({
    reason: 'gateway_class',
    sources: [{ kind: 'Gateway', namespace: 'infra', name: 'other' }],
  });
  expect(row('route.example.com', 'filtered')).toMatchObject({
    reason: 'gateway_class',
    sources: [{ kind: 'HTTPRoute', namespace: 'shop', name: 'route' }],
  });
  // Nothing but the selected, valid, non-proxied hosts is managed.
  expect(status.hosts.filter((h) => h.state === 'managed').map((h) => h.host)).toEqual([
    '*.apps.example.com',
    'shop.example.com',
    'www.example.com',
  ]);

  const cm = (name: string) => status.configMaps.find((c) => c.name === name);
  expect(cm('coredns')).toMatchObject({ namespace: 'kube-system', key: 'Corefile' });
  expect(cm('coredns')?.lastWriteTime).toEqual(expect.any(String));
  expect(['written', 'unchanged']).toContain(cm('coredns')?.lastResult);
  expect(cm('hairpin-hosts')).toMatchObject({ namespace: 'hairpin', key: 'hosts' });
  expect(cm('hairpin-hosts')?.lastWriteTime).toEqual(expect.any(String));
  expect(cm('broken')).toMatchObject({ lastResult: 'failed', lastWriteTime: null });
  expect(cm('broken')?.error).toMatch(/^HAIRPIN_/);
});

test('status: a table a human can paste into a bug report', async () => {
  const r = await runNode(main, ['status', '--namespace', 'hairpin'], { env: cliEnv() });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const out = r.stdout;
  expect(out).toMatch(
    /^leader: pod-a \(Lease hairpin\/hairpin-dns-controller renewed \d+s ago\)$/m,
  );
  expect(out).toMatch(
    /^shop\.example\.com +managed +- +hairpin-hosts, kube-system\/coredns:Corefile$/m,
  );
  expect(out).toMatch(/^\*\.apps\.example\.com +managed +- +hairpin-hosts, kube-system\/coredns/m);
  expect(out).toMatch(
    /^kubernetes\.default\.svc\.cluster\.local +rejected +Ingress shop\/evil \(\d+s ago\) +"kubernetes\.default\.svc\.cluster\.local" is under the cluster domain cluster\.local$/m,
  );
  // This Corefile has no `reload`: the row says when the edit takes effect.
  expect(out).toMatch(
    /^kube-system\/coredns +Corefile +corefile +3 +- +ok \(no reload plugin: edits apply when CoreDNS restarts\)$/m,
  );
  expect(out).toMatch(
    /^kube-system\/broken +Corefile +corefile +0 +- +unreadable: HAIRPIN_COREFILE_PARSE: /m,
  );
  expect(out).toMatch(/^hairpin\/hairpin-hosts +hosts +published +3 +- +ok$/m);
  expect(out).not.toContain('proxied.example.com'); // only the controller's /status knows
  expect(out).toContain(
    '\n  kubectl get --raw /api/v1/namespaces/hairpin/pods/pod-a:9090/proxy/status\n',
  );
});

test('status --output json', async () => {
  const r = await runNode(main, ['status', '--output', 'json'], { env: cliEnv() });
  expect(r.code).toBe(0);
  const s = JSON.parse(r.stdout) as ClusterStatus;
  expect(s.leader).toMatchObject({
    lease: 'hairpin/hairpin-dns-controller',
    found: true,
    holder: 'pod-a',
    fresh: true,
  });
  expect(s.controllerStatusPath).toBe('/api/v1/namespaces/hairpin/pods/pod-a:9090/proxy/status');
  expect(s.hosts.map((h) => `${h.state} ${h.host}`)).toEqual([
    'managed *.apps.example.com',
    'managed shop.example.com',
    'managed www.example.com',
    'rejected kubernetes.default.svc.cluster.local',
  ]);
  expect(s.hosts[1]).toMatchObject({
    in: ['hairpin/hairpin-hosts:hosts', 'kube-system/coredns:Corefile'],
    missingFrom: [],
  });
  expect(s.hosts[3]).toMatchObject({
    reason: 'HostnameRefused',
    sources: [{ kind: 'Ingress', namespace: 'shop', name: 'evil' }],
  });
  expect(s.configMaps.find((c) => c.name === 'broken')).toMatchObject({ state: 'unreadable' });
});

test('status: forbidden, or no API server: one line on stderr, exit 1, nothing on stdout', async () => {
  fake.failNext(1, 403, /^\/api\/v1\/events$/, 'GET'); // the controller never lists Events
  const forbidden = await runNode(main, ['status'], { env: cliEnv() });
  expect(forbidden.code).toBe(1);
  expect(forbidden.stdout).toBe('');
  expect(forbidden.stderr).toMatch(
    /^status: not allowed to list Events \(reason=HostnameRefused\) in all namespaces: HTTP 403 Forbidden: injected failure \(.*\)\n$/,
  );

  // A bad value is reported as invalid configuration; an operand no command takes is a
  // command line that cannot be read: one line pointing at --help.
  const bad = await runNode(main, ['status', '--output', 'yaml'], { env: cliEnv() });
  expect(bad.code).toBe(2);
  expect(bad.stderr).toBe('error: --output "yaml": expected text or json\n');
  const extra = await runNode(main, ['status', 'extra'], { env: cliEnv() });
  expect(extra.code).toBe(2);
  expect(extra.stderr).toBe(
    'error: unexpected argument extra; see hairpin-dns-controller status --help\n',
  );

  child.kill('SIGTERM');
  await once(child, 'exit');
  // The Lease as the controller left it (released on SIGTERM, unless a renewal in flight
  // won the race), as the command reads it.
  const lease = fake.get('coordination.k8s.io/v1', 'Lease', 'hairpin', 'hairpin-dns-controller');
  const holder = (lease?.['spec'] as { holderIdentity?: string }).holderIdentity ?? '';
  const after = await runNode(main, ['status'], { env: cliEnv() });
  expect(after.stdout).toMatch(
    holder === ''
      ? /^leader: none \(Lease hairpin\/hairpin-dns-controller released, renewed \d+s ago: expired\)$/m
      : /^leader: pod-a \(Lease hairpin\/hairpin-dns-controller renewed \d+s ago\)$/m,
  );

  await fake.stop();
  const down = await runNode(main, ['status'], { env: cliEnv() });
  expect(down.code).toBe(1);
  expect(down.stdout).toBe('');
  expect(down.stderr).toMatch(
    /^status: cannot reach the Kubernetes API server http:\/\/127\.0\.0\.1:\d+: get ConfigMap .*ECONNREFUSED.*\n$/,
  );
  fake = await FakeApiServer.start(); // for afterAll
});

/** The user's side: a kubeconfig, and the controller's non-default targets. */
function cliEnv(): Record<string, string> {
  return { KUBECONFIG: env['KUBECONFIG']!, COREDNS_CONFIGMAPS: env['COREDNS_CONFIGMAPS']! };
}
