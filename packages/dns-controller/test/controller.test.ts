// The dns-controller against the fake API server, driven by the real client.
import { afterEach, describe, expect, test } from 'vitest';
import { FakeApiServer } from '@hairpin/testing';
import {
  corednsConfigMap,
  hostsBlockLines,
  ingress,
  kubeadmCorefile,
  managedIn,
  RELAY_IP,
  relayService,
  rule,
  startHarness,
  waitFor,
  withHosts,
  type Harness,
} from './harness.ts';

const harnesses: Harness[] = [];
/** Fake API servers a test gave its harness (the harness stops only its own). */
const fakes: FakeApiServer[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stop();
  for (const f of fakes.splice(0)) await f.stop();
});
async function start(...args: Parameters<typeof startHarness>): Promise<Harness> {
  const h = await startHarness(...args);
  harnesses.push(h);
  return h;
}

describe('reconcile', () => {
  test('an Ingress becomes a hosts entry and a published host; nothing is written when nothing changes', async () => {
    const h = await start();
    h.fake.create(corednsConfigMap());
    h.fake.create(relayService());
    h.fake.create(ingress('shop', ['shop.example.com', 'API.example.com']));
    await waitFor(() => h.managed().includes('shop.example.com'));
    // The names answer the relay Service's ClusterIP, right after the root block opens.
    expect(h.corefile()).toContain(
      `.:53 {\n${hostsBlockLines('    ', ['api.example.com', 'shop.example.com']).join('\n')}\n    errors\n`,
    );
    expect(h.corefile()).toBe(withHosts(kubeadmCorefile, ['api.example.com', 'shop.example.com']));
    await waitFor(() => h.published()?.['hosts'] === 'api.example.com\nshop.example.com\n');
    expect(h.published()?.['relayIP']).toBe('10.96.0.50');
    await waitFor(() => h.metric('hairpin_dns_managed_hosts 2'));

    const writes = h.puts(/configmaps\/(coredns|hairpin-hosts)$/);
    // An unrelated change (a label) wakes the controller but changes nothing.
    const current = h.fake.get('networking.k8s.io/v1', 'Ingress', 'shop', 'shop')!;
    h.fake.replace({ ...current, metadata: { ...current.metadata, labels: { team: 'a' } } });
    await new Promise((r) => setTimeout(r, 300));
    expect(h.puts(/configmaps\/(coredns|hairpin-hosts)$/)).toBe(writes);
    // It watched: one list of Ingresses, not repeated ones.
    const lists = h.fake.requests.filter(
      (r) =>
        r.method === 'GET' &&
        r.path === '/apis/networking.k8s.io/v1/ingresses' &&
        r.query['watch'] === undefined,
    );
    expect(lists).toHaveLength(1);
  });

  test('the watch events of its own writes are not planned again; an edit by someone else is', async () => {
    const h = await start();
    h.fake.create(corednsConfigMap());
    h.fake.create(relayService());
    h.fake.create(ingress('shop', ['shop.example.com']));
    await waitFor(() => h.published()?.['hosts'] === 'shop.example.com\n');
    await new Promise((r) => setTimeout(r, 300));
    // Passes that planned (each observes the histogram) and passes with nothing to do.
    const planned = async () => (await h.value('hairpin_dns_reconcile_seconds_count')) ?? 0;
    const skipped = async () =>
      (await h.value('hairpin_dns_reconcile_total{result="skipped"}')) ?? 0;
    const [planned0, skipped0] = [await planned(), await skipped()];

    h.fake.create(ingress('blog', ['blog.example.com']));
    await waitFor(() => h.published()?.['hosts'] === 'blog.example.com\nshop.example.com\n');
    await new Promise((r) => setTimeout(r, 300));
    // One pass wrote both ConfigMaps; their watch events came back and found it settled.
    expect(await planned()).toBe(planned0 + 1);
    expect(await skipped()).toBeGreaterThan(skipped0);

    // Someone else's edit of the Corefile is a new version: planned, and our lines come back.
    const coredns = h.fake.get('v1', 'ConfigMap', 'kube-system', 'coredns')!;
    h.fake.replace({ ...coredns, data: { Corefile: kubeadmCorefile } });
    await waitFor(() => h.managed().length === 2);
    expect(await planned()).toBe(planned0 + 2);
  });

  test('the caches keep projections of Ingresses, listed or watched: no managedFields, no last-applied', async () => {
    const heavy = (name: string, host: string) => {
      const o = ingress(name, [host]);
      return {
        ...o,
        metadata: {
          ...o.metadata,
          annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(o) },
          managedFields: [{ manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1' }],
        },
      };
    };
    const fake = await FakeApiServer.start({ bookmarkIntervalMs: 200 });
    fakes.push(fake);
    fake.create(corednsConfigMap());
    fake.create(relayService());
    fake.create(heavy('listed', 'listed.example.com'));
    const h = await start([], { fake });
    // Listed first; then one that only the watch delivers.
    await waitFor(() => h.managed().length === 1);
    h.fake.create(heavy('watched', 'watched.example.com'));
    await waitFor(() => h.managed().length === 2);
    const cached = h.controller['caches'].snapshot({ lastHosts: undefined, emptySince: undefined })
      .ingresses as { metadata: Record<string, unknown> }[];
    expect(cached.map((o) => o.metadata['name']).sort()).toEqual(['listed', 'watched']);
    for (const o of cached) {
      expect(o.metadata['managedFields']).toBeUndefined();
      expect(o.metadata['annotations']).toBeUndefined();
    }
  });

  test('a refused hostile host: Event and metric; the valid hosts are still written', async () => {
    const h = await start();
    h.fake.create(corednsConfigMap());
    h.fake.create(relayService());
    h.fake.create(
      ingress(
        'evil',
        ['ok.example.com', 'x.example.com\n}\n. {', 'kubernetes.default.svc.cluster.local'],
        { namespace: 'tenant' },
      ),
    );
    await waitFor(() => h.managed().includes('ok.example.com'));
    expect(h.corefile()).not.toContain('x.example.com');
    expect(h.managed()).toEqual(['ok.example.com']);
    await waitFor(() => h.fake.list('v1', 'Event', 'tenant').length === 2);
    const events = h.fake.list('v1', 'Event', 'tenant');
    expect(events.map((e) => e['reason'])).toEqual(['HostnameRefused', 'HostnameRefused']);
    expect((events[0]!['involvedObject'] as { name: string }).name).toBe('evil');
    expect(await h.metric('hairpin_dns_rejected_hosts_total{reason="invalid_characters"} 1')).toBe(
      true,
    );
    expect(await h.metric('hairpin_dns_rejected_hosts_total{reason="cluster_domain"} 1')).toBe(
      true,
    );
  });

  test('a Corefile overwritten by another tool is repaired', async () => {
    const h = await start();
    h.fake.create(corednsConfigMap());
    h.fake.create(relayService());
    h.fake.create(ingress('shop', ['shop.example.com']));
    await waitFor(() => h.managed().includes('shop.example.com'));
    const reset = `${kubeadmCorefile}# reset by an addon manager\n`;
    h.fake.replace(corednsConfigMap(reset));
    await waitFor(
      () =>
        h.corefile() ===
        reset.replace(
          '.:53 {\n',
          `.:53 {\n${hostsBlockLines('    ', ['shop.example.com']).join('\n')}\n`,
        ),
    );
  });

  test("an earlier version's rewrite rules are replaced by hosts entries", async () => {
    const h = await start();
    const legacy = kubeadmCorefile.replace(
      '.:53 {\n',
      `.:53 {\n    ${rule('old.example.com')}\n    ${rule('shop.example.com')}\n`,
    );
    h.fake.create(corednsConfigMap(legacy));
    h.fake.create(relayService());
    h.fake.create(ingress('shop', ['shop.example.com']));
    await waitFor(() => h.corefile() !== legacy);
    expect(h.corefile()).toBe(withHosts(kubeadmCorefile, ['shop.example.com']));
    expect(h.corefile()).not.toContain('rewrite');
  });

  test('no relay Service yet: nothing written until it exists, then its ClusterIP is used', async () => {
    const h = await start();
    h.fake.create(corednsConfigMap());
    h.fake.create(ingress('shop', ['shop.example.com']));
    await waitFor(() => h.controller.notReadyReason() === null);
    await new Promise((r) => setTimeout(r, 300));
    expect(h.corefile()).toBe(kubeadmCorefile);
    expect(h.published()).toBeUndefined();
    expect(h.puts(/configmaps/)).toBe(0);
    h.fake.create(relayService());
    await waitFor(() => h.managed().includes('shop.example.com'));
    expect(h.corefile()).toBe(withHosts(kubeadmCorefile, ['shop.example.com']));
    await waitFor(() => h.published()?.['relayIP'] === RELAY_IP);
  });

  test('a missing CoreDNS ConfigMap is waited for, then written', async () => {
    const h = await start();
    h.fake.create(relayService());
    h.fake.create(ingress('shop', ['shop.example.com']));
    await waitFor(() => h.controller.notReadyReason() === null);
    await new Promise((r) => setTimeout(r, 200));
    h.fake.create(corednsConfigMap());
    await waitFor(() => h.managed().includes('shop.example.com'));
  });

  test('a Corefile that cannot be edited is never written: Event, metric, retried later', async () => {
    const h = await start();
    h.fake.create(relayService());
    const broken = '.:53 {\n    errors\n    proxy . 8.8.8.8\n}\n';
    h.fake.create(corednsConfigMap(broken));
    h.fake.create(ingress('shop', ['shop.example.com']));
    await waitFor(() => h.fake.list('v1', 'Event', 'kube-system').length === 1);
    expect(h.fake.list('v1', 'Event', 'kube-system')[0]!['reason']).toBe('CorefileNotEditable');
    expect(h.corefile()).toBe(broken);
    expect(h.puts(/configmaps\/coredns$/)).toBe(0);
    await waitFor(
      async () => ((await h.value('hairpin_dns_reconcile_total{result="error"}')) ?? 0) >= 1,
    );
    // Fixed by its owner: written on the next change.
    h.fake.replace(corednsConfigMap(kubeadmCorefile));
    await waitFor(() => h.managed().includes('shop.example.com'));
  });

  test('an uneditable Corefile is terminal: reported once, not retried until it or the hosts change', async () => {
    const h = await start([], { logs: true });
    h.fake.create(relayService());
    const errors = () => h.value('hairpin_dns_reconcile_total{result="error"}');
    expect(await errors()).toBe(0);
    const broken = '.:53 {\n    errors\n    proxy . 8.8.8.8\n}\n';
    h.fake.create(corednsConfigMap(broken));
    h.fake.create(ingress('shop', ['shop.example.com']));
    await waitFor(async () => ((await errors()) ?? 0) >= 1);
    // hairpin-hosts is still published; the event of that write runs the plan once more.
    await waitFor(() => h.published()?.['hosts'] === 'shop.example.com\n');
    await new Promise((r) => setTimeout(r, 200));
    const reported = () => h.logs.filter((l) => l.includes('Corefile not edited')).length;
    expect(reported()).toBe(1);
    // No retry timer: nothing runs again on its own (a backoff would retry within 1.5 s).
    const before = await errors();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await errors()).toBe(before);
    // A change of the hosts runs it again; the same ConfigMap version is not reported again.
    h.fake.create(ingress('api', ['api.example.com']));
    await waitFor(async () => (await errors())! > before!);
    expect(reported()).toBe(1);
    expect(h.fake.list('v1', 'Event', 'kube-system')).toHaveLength(1);
    expect(h.puts(/configmaps\/coredns$/)).toBe(0);
    // A new version of the ConfigMap that is still broken is reported again.
    h.fake.replace(corednsConfigMap(`${broken}# still broken\n`));
    await waitFor(() => reported() === 2);
  });

  test('a ConfigMap without the Corefile key has its own error code', async () => {
    const h = await start();
    h.fake.create(relayService());
    h.fake.create(corednsConfigMap(kubeadmCorefile, 'coredns', 'Corefile.bak'));
    h.fake.create(ingress('shop', ['shop.example.com']));
    await waitFor(() => h.fake.list('v1', 'Event', 'kube-system').length === 1);
    const event = h.fake.list('v1', 'Event', 'kube-system')[0]!;
    expect(event['reason']).toBe('CorefileNotEditable');
    expect(event['message']).toBe(
      'HAIRPIN_CONFIGMAP_KEY_MISSING: ConfigMap kube-system/coredns has no key Corefile',
    );
  });

  test('409 on replace: re-read and retried', async () => {
    const h = await start();
    h.fake.create(relayService());
    h.fake.create(corednsConfigMap());
    h.fake.failNext(2, 409, /configmaps\/coredns$/, 'PUT');
    h.fake.create(ingress('shop', ['shop.example.com']));
    await waitFor(() => h.managed().includes('shop.example.com'));
    const text = await h.registry.metrics();
    expect(text).toContain('hairpin_dns_reconcile_total{result="conflict"} 2');
  });

  test('an apiserver that disappears and comes back: changes made meanwhile are applied', async () => {
    const h = await start();
    h.fake.create(relayService());
    h.fake.create(corednsConfigMap());
    h.fake.create(ingress('a', ['a.example.com']));
    await waitFor(() => h.managed().includes('a.example.com'));
    await h.fake.refuseConnections();
    h.fake.create(ingress('b', ['b.example.com']));
    await new Promise((r) => setTimeout(r, 500));
    expect(h.corefile()).not.toContain('b.example.com');
    await h.fake.resumeConnections();
    await waitFor(() => h.managed().includes('b.example.com'), 15_000);
    expect(h.managed()).toEqual(['a.example.com', 'b.example.com']);
  });

  test('hosts dropping to zero are confirmed before every rule is removed', async () => {
    const h = await start([], { confirmEmptyMs: 400 });
    h.fake.create(relayService());
    h.fake.create(corednsConfigMap());
    h.fake.create(ingress('a', ['a.example.com']));
    await waitFor(() => h.managed().includes('a.example.com'));
    h.fake.delete('networking.k8s.io/v1', 'Ingress', 'shop', 'a');
    await new Promise((r) => setTimeout(r, 150));
    expect(h.managed()).toEqual(['a.example.com']);
    await waitFor(() => h.corefile() === kubeadmCorefile);
  });

  test('KEP-1860: hosts behind a load balancer with ipMode Proxy are skipped', async () => {
    const h = await start();
    h.fake.create(relayService());
    h.fake.create(corednsConfigMap());
    h.fake.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' },
      spec: { type: 'LoadBalancer' },
      status: { loadBalancer: { ingress: [{ ip: '203.0.113.10', ipMode: 'Proxy' }] } },
    });
    h.fake.create(
      ingress('proxied', ['proxied.example.com'], {
        status: { loadBalancer: { ingress: [{ ip: '203.0.113.10' }] } },
      }),
    );
    h.fake.create(
      ingress('plain', ['plain.example.com'], {
        status: { loadBalancer: { ingress: [{ ip: '203.0.113.99' }] } },
      }),
    );
    await waitFor(() => h.managed().includes('plain.example.com'));
    expect(h.corefile()).not.toContain('proxied.example.com');
    expect(h.managed()).toEqual(['plain.example.com']);
    expect(await h.metric('hairpin_dns_proxy_mode_skipped_hosts_total 1')).toBe(true);
  });

  test('ingress class and source filters', async () => {
    const h = await start(['--ingress-class', 'nginx', '--sources', 'rules']);
    h.fake.create(relayService());
    h.fake.create(corednsConfigMap());
    h.fake.create(ingress('mine', ['mine.example.com'], { className: 'nginx' }));
    h.fake.create(ingress('theirs', ['theirs.example.com'], { className: 'traefik' }));
    await waitFor(() => h.managed().includes('mine.example.com'));
    expect(h.corefile()).not.toContain('theirs.example.com');
    expect(h.managed()).toEqual(['mine.example.com']);
  });
});

describe('targets', () => {
  test('several Corefiles at once (RKE2 and node-local-dns style)', async () => {
    const h = await start([
      '--coredns-configmap',
      'kube-system/rke2-coredns-rke2-coredns',
      '--coredns-configmap',
      'kube-system/node-local-dns:Corefile',
    ]);
    h.fake.create(relayService());
    h.fake.create(corednsConfigMap(kubeadmCorefile, 'rke2-coredns-rke2-coredns'));
    h.fake.create(
      corednsConfigMap(
        '.:53 {\n    bind 169.254.20.10\n    forward . 10.96.0.10\n}\n',
        'node-local-dns',
      ),
    );
    h.fake.create(ingress('shop', ['shop.example.com']));
    await waitFor(() => h.managed('rke2-coredns-rke2-coredns').includes('shop.example.com'));
    await waitFor(() => h.managed('node-local-dns').includes('shop.example.com'));
    // node-local-dns's block resolves nothing else of the cluster: the entry is the address.
    expect(h.corefile('node-local-dns')).toBe(
      `.:53 {\n${hostsBlockLines('    ', ['shop.example.com']).join('\n')}\n    bind 169.254.20.10\n    forward . 10.96.0.10\n}\n`,
    );
  });

  test('import mode writes only coredns-custom hairpin.override and leaves the Corefile alone', async () => {
    const h = await start(['--import-configmap', 'kube-system/coredns-custom']);
    h.fake.create(corednsConfigMap());
    h.fake.create(relayService());
    h.fake.create(ingress('shop', ['shop.example.com', '*.apps.example.com']));
    await waitFor(() => h.corefile('coredns-custom', 'hairpin.override') !== undefined);
    const key = h.corefile('coredns-custom', 'hairpin.override')!;
    expect(managedIn(`.:53 {\n${key}}\n`)).toEqual(['*.apps.example.com', 'shop.example.com']);
    expect(key).toContain(`match ^(?:shop\\.example\\.com)\\.$ # managed by hairpin\n`);
    expect(key).toContain(`answer "{{ .Name }} 30 IN A ${RELAY_IP}" # managed by hairpin\n`);
    expect(h.corefile()).toBe(kubeadmCorefile);
    const custom = h.fake.get('v1', 'ConfigMap', 'kube-system', 'coredns-custom')!;
    expect(Object.keys(custom['data'] as Record<string, string>)).toEqual(['hairpin.override']);
  });

  test('a dual-stack relay Service: each name answers both of its ClusterIPs', async () => {
    const h = await start();
    h.fake.create(corednsConfigMap());
    h.fake.create(relayService(RELAY_IP, [RELAY_IP, 'fd00::50']));
    h.fake.create(ingress('shop', ['shop.example.com']));
    await waitFor(() => h.managed().includes('shop.example.com'));
    expect(h.corefile()).toContain(
      `.:53 {\n${hostsBlockLines('    ', ['shop.example.com'], [RELAY_IP, 'fd00::50']).join('\n')}\n`,
    );
    await waitFor(() => h.published()?.['relayIP'] === RELAY_IP);
  });

  test("import mode replaces an earlier version's rules in hairpin.override, keeping the owner's keys", async () => {
    const h = await start(['--import-configmap', 'kube-system/coredns-custom']);
    const custom = {
      'hairpin.override': `${rule('shop.example.com')}\n`,
      'log.override': 'log\n',
      'corp.server': 'corp.example.com {\n    forward . 10.0.0.53\n}\n',
    };
    h.fake.create({ ...corednsConfigMap('', 'coredns-custom'), data: custom });
    h.fake.create(relayService());
    h.fake.create(ingress('shop', ['shop.example.com']));
    await waitFor(() => !h.corefile('coredns-custom', 'hairpin.override')!.includes('rewrite'));
    const data = h.fake.get('v1', 'ConfigMap', 'kube-system', 'coredns-custom')!['data'] as Record<
      string,
      string
    >;
    expect(Object.keys(data).sort()).toEqual(['corp.server', 'hairpin.override', 'log.override']);
    expect(data['log.override']).toBe(custom['log.override']);
    expect(data['corp.server']).toBe(custom['corp.server']);
    expect(managedIn(`.:53 {\n${data['hairpin.override']}}\n`)).toEqual(['shop.example.com']);
  });

  test('Gateway API CRDs that appear at runtime are found and watched', async () => {
    const h = await start();
    h.fake.create(relayService());
    h.fake.create(corednsConfigMap());
    h.fake.create(ingress('shop', ['shop.example.com']));
    await waitFor(() => h.managed().includes('shop.example.com'));
    expect(h.controller.gatewayApiFound).toBe(false);
    h.fake.installGatewayApi();
    h.fake.create({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'public', namespace: 'infra' },
      spec: {
        gatewayClassName: 'cilium',
        listeners: [{ name: 'https', hostname: 'gw.example.com' }],
      },
    });
    h.fake.create({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'app', namespace: 'shop' },
      spec: {
        parentRefs: [{ name: 'public', namespace: 'infra' }],
        hostnames: ['route.example.com'],
      },
    });
    await waitFor(() => h.managed().includes('route.example.com'), 15_000);
    expect(h.managed()).toEqual(['gw.example.com', 'route.example.com', 'shop.example.com']);
  });
});

describe('leadership', () => {
  test('a controller that does not lead never writes', async () => {
    const h = await start([], { leading: false });
    h.fake.create(relayService());
    h.fake.create(corednsConfigMap());
    h.fake.create(ingress('shop', ['shop.example.com']));
    await waitFor(() => h.controller.notReadyReason() === null);
    await new Promise((r) => setTimeout(r, 300));
    expect(h.puts(/configmaps/)).toBe(0);
    h.controller.setLeading(true);
    await waitFor(() => h.managed().includes('shop.example.com'));
  });
});
