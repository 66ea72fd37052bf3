// planReconcile: every decision of a reconcile, from plain objects, without a server.
import { readFileSync } from 'node:fs';
import { ErrorCodes, managedCorefileHosts, parseCorefile } from '@hairpin/shared';
import { corpusFile } from '@hairpin/testing';
import { describe, expect, test } from 'vitest';
import { loadConfig } from './config.ts';
import { planReconcile, type PlanConfig, type Snapshot } from './plan.ts';

const corpus = (name: string) => readFileSync(corpusFile(`corefiles/${name}`), 'utf8');
const kubeadm = corpus('kubeadm-latest.Corefile');
const RELAY = 'hairpin-relay.hairpin.svc.cluster.local';
const rule = (h: string) => `rewrite name exact ${h} ${RELAY} # managed by hairpin`;

const config = (args: string[] = []): PlanConfig => ({
  ...loadConfig(args, {}),
  confirmEmptyMs: 3_000,
});
const coredns = { namespace: 'kube-system', name: 'coredns', key: 'Corefile' };
const ingress = (name: string, hosts: string[], status?: unknown) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name, namespace: 'shop', uid: `uid-${name}` },
  spec: { rules: hosts.map((host) => ({ host })) },
  ...(status === undefined ? {} : { status }),
});
const relayService = {
  metadata: { name: 'hairpin-relay', namespace: 'hairpin' },
  spec: { clusterIP: '10.96.0.50' },
};
const cm = (data: Record<string, string>, resourceVersion = '7') => ({
  metadata: { uid: 'cm-uid', resourceVersion },
  data,
});

function snapshot(over: Partial<Snapshot> = {}): Snapshot {
  return {
    ingresses: [],
    gateways: [],
    routes: [],
    services: [relayService],
    corefiles: [{ target: coredns, configMap: cm({ Corefile: kubeadm }) }],
    importTarget: undefined,
    published: undefined,
    ingressWatchHealthy: true,
    lastHosts: undefined,
    emptySince: undefined,
    ...over,
  };
}

describe('planReconcile', () => {
  test('hosts become one Corefile edit and a hairpin-hosts create; rejections reported', () => {
    const plan = planReconcile(
      snapshot({ ingresses: [ingress('shop', ['shop.example.com', 'bad host', 'a.example.com'])] }),
      config(),
      0,
    );
    expect(plan.hosts).toEqual(['a.example.com', 'shop.example.com']);
    expect(plan.rejected.map((r) => [r.host, r.reason, r.ref.name])).toEqual([
      ['bad host', 'invalid_characters', 'shop'],
    ]);
    expect(plan.empty).toEqual({ kind: 'trusted' });
    expect(plan.refused).toEqual([]);
    expect(plan.waiting).toEqual([]);
    const [corefile, published] = plan.writes;
    expect(corefile!.ref).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: 'kube-system',
      name: 'coredns',
      uid: 'cm-uid',
    });
    expect(corefile!.create).toBeUndefined();
    expect(corefile!.data['Corefile']).toBe(
      kubeadm.replace(
        '.:53 {\n',
        `.:53 {\n    ${rule('a.example.com')}\n    ${rule('shop.example.com')}\n`,
      ),
    );
    expect(published!.target.name).toBe('hairpin-hosts');
    expect(published!.current).toBeUndefined();
    expect(published!.create).toEqual({ labels: { 'app.kubernetes.io/part-of': 'hairpin' } });
    expect(published!.data).toEqual({
      hosts: 'a.example.com\nshop.example.com\n',
      relayIP: '10.96.0.50',
    });
    // The edit is re-applied to a fresh read after a 409: another key is kept.
    expect(corefile!.edit({ Corefile: kubeadm, other: 'x' })).toEqual({
      Corefile: corefile!.data['Corefile'],
      other: 'x',
    });
  });

  test('nothing changes: no writes', () => {
    const first = planReconcile(
      snapshot({ ingresses: [ingress('shop', ['shop.example.com'])] }),
      config(),
      0,
    );
    const [corefile, published] = first.writes;
    const again = planReconcile(
      snapshot({
        ingresses: [ingress('shop', ['shop.example.com'])],
        corefiles: [{ target: coredns, configMap: cm(corefile!.data) }],
        published: cm(published!.data),
      }),
      config(),
      0,
    );
    expect(again.writes).toEqual([]);
  });

  test('a missing ConfigMap is waited for; a relay without a ClusterIP publishes nothing', () => {
    const plan = planReconcile(
      snapshot({
        ingresses: [ingress('shop', ['shop.example.com'])],
        corefiles: [{ target: coredns, configMap: undefined }],
        services: [{ ...relayService, spec: { clusterIP: 'None' } }],
      }),
      config(),
      0,
    );
    expect(plan.writes).toEqual([]);
    expect(plan.waiting).toEqual([
      'ConfigMap kube-system/coredns not found: waiting for it',
      'relay Service hairpin/hairpin-relay has no ClusterIP yet: hairpin-hosts not published',
    ]);
  });

  test('an uneditable Corefile and a missing key are refused with their codes and versions', () => {
    const plan = planReconcile(
      snapshot({
        ingresses: [ingress('shop', ['shop.example.com'])],
        corefiles: [
          { target: coredns, configMap: cm({ Corefile: '.:53 {\n    proxy . 8.8.8.8\n}\n' }, '9') },
          {
            target: { namespace: 'kube-system', name: 'node-local-dns', key: 'Corefile' },
            configMap: cm({ Corefile5: kubeadm }, '3'),
          },
        ],
      }),
      config(),
      0,
    );
    expect(plan.refused.map((r) => [r.ref.name, r.version, r.error.code])).toEqual([
      ['coredns', '9', ErrorCodes.COREFILE_PARSE],
      ['node-local-dns', '3', ErrorCodes.CONFIGMAP_KEY_MISSING],
    ]);
    // hairpin-hosts is still published.
    expect(plan.writes.map((w) => w.target.name)).toEqual(['hairpin-hosts']);
  });

  test('a drop to zero hosts: held while the watch is unhealthy, confirmed after confirmEmptyMs', () => {
    const withRules = planReconcile(
      snapshot({ ingresses: [ingress('a', ['a.example.com'])] }),
      config(),
      0,
    ).writes[0]!.data;
    const state = { corefiles: [{ target: coredns, configMap: cm(withRules) }] };
    expect(
      planReconcile(snapshot({ ...state, ingressWatchHealthy: false }), config(), 0),
    ).toMatchObject({
      empty: { kind: 'unhealthy-watch', managed: 1 },
      writes: [],
    });
    const first = planReconcile(snapshot(state), config(), 1_000);
    expect(first.empty).toEqual({ kind: 'confirming', managed: 1, since: 1_000, waitMs: 3_010 });
    expect(first.writes).toEqual([]);
    const early = planReconcile(snapshot({ ...state, emptySince: 1_000 }), config(), 3_000);
    expect(early.empty).toMatchObject({ kind: 'confirming', waitMs: 1_010 });
    const confirmed = planReconcile(snapshot({ ...state, emptySince: 1_000 }), config(), 4_000);
    expect(confirmed.empty).toEqual({ kind: 'trusted' });
    expect(confirmed.writes[0]!.data['Corefile']).toBe(kubeadm);
    // Nothing managed before: an empty set is trusted at once.
    expect(planReconcile(snapshot({ lastHosts: [] }), config(), 0).empty).toEqual({
      kind: 'trusted',
    });
  });

  test('KEP-1860: an Ingress behind an ipMode Proxy load balancer is skipped and reported', () => {
    const lb = {
      metadata: { name: 'ingress-nginx', namespace: 'ingress-nginx' },
      status: { loadBalancer: { ingress: [{ ip: '203.0.113.10', ipMode: 'Proxy' }] } },
    };
    const plan = planReconcile(
      snapshot({
        services: [relayService, lb],
        ingresses: [
          ingress('proxied', ['proxied.example.com'], {
            loadBalancer: { ingress: [{ ip: '203.0.113.10' }] },
          }),
          ingress('plain', ['plain.example.com']),
        ],
      }),
      config(),
      0,
    );
    expect(plan.hosts).toEqual(['plain.example.com']);
    expect(plan.proxyMode.map((p) => [p.ref.name, p.hosts])).toEqual([
      ['proxied', ['proxied.example.com']],
    ]);
  });

  test('import mode: the key is created with the managed lines alone, removed when empty', () => {
    const target = { namespace: 'kube-system', name: 'coredns-custom', key: 'hairpin.override' };
    const cfg = config(['--import-configmap', 'kube-system/coredns-custom']);
    const plan = planReconcile(
      snapshot({
        corefiles: [],
        importTarget: { target, configMap: undefined },
        ingresses: [ingress('shop', ['shop.example.com'])],
      }),
      cfg,
      0,
    );
    expect(plan.writes[0]).toMatchObject({
      target,
      create: { labels: {} },
      data: { 'hairpin.override': `${rule('shop.example.com')}\n` },
    });
    const emptied = planReconcile(
      snapshot({
        corefiles: [],
        importTarget: { target, configMap: cm({ 'hairpin.override': 'x', 'other.server': 'y' }) },
        lastHosts: [],
      }),
      cfg,
      0,
    );
    expect(emptied.writes[0]!.data).toEqual({ 'other.server': 'y' });
  });
});

describe('import mode on the real k3s layout (coredns-custom)', () => {
  // k3s's Corefile imports *.override inside the root block and *.server at the top level.
  const k3s = corpus('k3s.Corefile');
  const override = planReconcile(
    snapshot({
      corefiles: [],
      importTarget: {
        target: { namespace: 'kube-system', name: 'coredns-custom', key: 'hairpin.override' },
        configMap: undefined,
      },
      ingresses: [ingress('shop', ['shop.example.com', '*.apps.example.com'])],
    }),
    config(['--import-configmap', 'kube-system/coredns-custom']),
    0,
  ).writes[0]!.data['hairpin.override']!;

  test('.override content, imported where k3s imports it, is valid rules in the root block', () => {
    const imported = k3s.replace(
      '    import /etc/coredns/custom/*.override\n',
      override.replace(/^/gm, '    ').replace(/ {4}$/, ''),
    );
    expect(imported).not.toBe(k3s);
    expect(managedCorefileHosts(imported, { target: RELAY })).toEqual([
      '*.apps.example.com',
      'shop.example.com',
    ]);
  });

  test('the same lines where k3s imports *.server are server blocks, not rules, so .server is refused', () => {
    const imported = k3s.replace('import /etc/coredns/custom/*.server\n', override);
    // At the top level each line opens a server block whose zones are the rule's words: the
    // hairpinned name would be served by a block with no backend (SERVFAIL), not rewritten.
    const blocks = parseCorefile(imported).blocks.map((b) => b.keys);
    expect(blocks.slice(1)).toEqual([
      expect.arrayContaining(['rewrite', 'name', 'regex', RELAY, 'answer', 'auto']),
    ]);
    expect(blocks[0]).toEqual(['.:53']);
    expect(() =>
      loadConfig(['--import-configmap', 'kube-system/coredns-custom:hairpin.server'], {}),
    ).toThrow(/key hairpin\.server must end in \.override/);
  });
});
