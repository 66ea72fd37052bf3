// planReconcile: every decision of a reconcile, from plain objects, without a server.
import { readFileSync } from 'node:fs';
import {
  applyCorefileHosts,
  ErrorCodes,
  findRootBlock,
  managedCorefileHosts,
  parseCorefile,
} from '@hairpin/shared';
import { corpusFile } from '@hairpin/testing';
import { describe, expect, test } from 'vitest';
import { loadConfig } from './config.ts';
import {
  CorefileEditMemo,
  importEdit,
  planReconcile,
  relayClusterIPs,
  type PlanConfig,
  type Snapshot,
} from './plan.ts';

const corpus = (name: string) => readFileSync(corpusFile(`corefiles/${name}`), 'utf8');
const kubeadm = corpus('kubeadm-latest.Corefile');
const RELAY = 'hairpin-relay.hairpin.svc.cluster.local';
const IP = '10.96.0.50';
const IP6 = 'fd00::50';
const M = '# managed by hairpin';
/** An earlier version's rule. */
const rule = (h: string) => `rewrite name exact ${h} ${RELAY} ${M}`;
/** The hosts a Corefile or import key sends to the relay. */
const managed = (text: string | undefined) =>
  text === undefined ? [] : managedCorefileHosts(text, { target: RELAY, relayIPs: [IP] });
/** Our hosts block for a few exact names, at four spaces, one entry line per address. */
const hostsBlock = (names: string[], ips: string[] = [IP]) =>
  [
    `    hosts /dev/null { ${M}`,
    ...ips.map((ip) => `        ${ip} ${names.join(' ')} ${M}`),
    `        ttl 30 ${M}`,
    `        no_reverse ${M}`,
    `        fallthrough ${M}`,
    `    } ${M}`,
  ].join('\n');

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
  spec: { clusterIP: IP },
};
const relayWith = (spec: Record<string, unknown> | undefined) => ({
  metadata: relayService.metadata,
  ...(spec === undefined ? {} : { spec }),
});
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
    // The names answer the relay Service's ClusterIP, from a hosts block of our own.
    expect(corefile!.data['Corefile']).toBe(
      kubeadm.replace('.:53 {\n', `.:53 {\n${hostsBlock(['a.example.com', 'shop.example.com'])}\n`),
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

  test('a missing ConfigMap is waited for', () => {
    const plan = planReconcile(
      snapshot({
        ingresses: [ingress('shop', ['shop.example.com'])],
        corefiles: [{ target: coredns, configMap: undefined }],
      }),
      config(),
      0,
    );
    expect(plan.waiting).toEqual(['ConfigMap kube-system/coredns not found: waiting for it']);
    expect(plan.writes.map((w) => w.target.name)).toEqual(['hairpin-hosts']);
  });

  describe('a relay Service without a ClusterIP', () => {
    const noClusterIP = [
      ['absent', []],
      ['without a spec', [relayWith(undefined)]],
      ['headless', [relayWith({ clusterIP: 'None', clusterIPs: ['None'] })]],
      ['not yet allocated', [relayWith({ clusterIP: '' })]],
      [
        'in another namespace',
        [{ ...relayService, metadata: { ...relayService.metadata, namespace: 'x' } }],
      ],
    ] as const;
    const waitingForIP =
      'relay Service hairpin/hairpin-relay has no ClusterIP yet: managed names are not written, hairpin-hosts not published';

    test.each(noClusterIP)('%s: no host is written, nothing published', (_name, services) => {
      expect(relayClusterIPs({ services }, config())).toEqual([]);
      const plan = planReconcile(
        snapshot({ services, ingresses: [ingress('shop', ['shop.example.com'])] }),
        config(),
        0,
      );
      expect(plan.writes).toEqual([]);
      expect(plan.refused).toEqual([]);
      expect(plan.waiting).toEqual([waitingForIP]);
    });

    test('hosts already written stay while hosts change, and go when they drop to zero', () => {
      const services = [relayWith({ clusterIP: 'None' })];
      const written = applyCorefileHosts(kubeadm, ['a.example.com', 'b.example.com'], {
        target: RELAY,
        relayIPs: [IP],
      });
      const corefiles = [{ target: coredns, configMap: cm({ Corefile: written }) }];
      // Other hosts wanted: without the address nothing can be written; the old entries stay.
      const changed = planReconcile(
        snapshot({ services, corefiles, ingresses: [ingress('a', ['a.example.com'])] }),
        config(),
        0,
      );
      expect(changed.writes).toEqual([]);
      expect(changed.waiting).toEqual([waitingForIP]);
      // No hosts (confirmed): removal needs no address, and every managed line goes.
      const emptied = planReconcile(
        snapshot({ services, corefiles, emptySince: 0 }),
        config(),
        10_000,
      );
      expect(emptied.empty).toEqual({ kind: 'trusted' });
      expect(emptied.waiting).toEqual([waitingForIP]);
      expect(emptied.writes.map((w) => [w.target.name, w.data['Corefile']])).toEqual([
        ['coredns', kubeadm],
      ]);
      // Import mode too: the key goes, the owner's keys stay.
      const target = { namespace: 'kube-system', name: 'coredns-custom', key: 'hairpin.override' };
      const imported = planReconcile(
        snapshot({
          services,
          corefiles: [],
          importTarget: {
            target,
            configMap: cm({
              'hairpin.override': `${rule('a.example.com')}\n`,
              'other.server': 'y',
            }),
          },
          lastHosts: ['a.example.com'],
          emptySince: 0,
        }),
        config(['--import-configmap', 'kube-system/coredns-custom']),
        10_000,
      );
      expect(imported.writes.map((w) => w.data)).toEqual([{ 'other.server': 'y' }]);
    });
  });

  test('a dual-stack relay: each name answers both ClusterIPs, in either family order', () => {
    const hosts = ['shop.example.com', '*.apps.example.com'];
    const plans = [
      [IP, IP6],
      [IP6, IP],
    ].map((clusterIPs) =>
      planReconcile(
        snapshot({
          services: [relayWith({ clusterIP: clusterIPs[0], clusterIPs })],
          ingresses: [ingress('shop', hosts)],
        }),
        config(),
        0,
      ),
    );
    const [v4First, v6First] = plans.map((p) => p.writes[0]!.data['Corefile']!);
    expect(v4First).toBe(v6First);
    expect(v4First).toContain(`.:53 {\n${hostsBlock(['shop.example.com'], [IP, IP6])}\n`);
    expect(v4First).toContain(`answer "{{ .Name }} 30 IN A ${IP}" ${M}`);
    expect(v4First).toContain(`answer "{{ .Name }} 30 IN AAAA ${IP6}" ${M}`);
    expect(v4First).not.toContain('rcode NOERROR');
    expect(managed(v4First)).toEqual(['*.apps.example.com', 'shop.example.com']);
    // Removal recognises both families' entries.
    expect(applyCorefileHosts(v4First!, [], { target: RELAY, relayIPs: [IP, IP6] })).toBe(kubeadm);
    // hairpin-hosts carries the Service's primary ClusterIP (the first of clusterIPs).
    expect(plans.map((p) => p.writes[1]!.data['relayIP'])).toEqual([IP, IP6]);
  });

  test('a single-stack relay: AAAA queries for wildcard names get no public address', () => {
    const plan = planReconcile(
      snapshot({ ingresses: [ingress('shop', ['*.apps.example.com'])] }),
      config(),
      0,
    );
    const text = plan.writes[0]!.data['Corefile']!;
    expect(text).toContain(`answer "{{ .Name }} 30 IN A ${IP}" ${M}`);
    expect(text).toMatch(/template IN AAAA \{ # managed by hairpin\n.*\n +rcode NOERROR # managed/);
    expect(text).not.toContain('hosts /dev/null');
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

  test('entries whose markers were stripped (kubeadm migration) still count before a drop to zero', () => {
    const written = applyCorefileHosts(kubeadm, ['a.example.com'], {
      target: RELAY,
      relayIPs: [IP],
    });
    const stripped = written.replaceAll(` ${M}`, '');
    const state = { corefiles: [{ target: coredns, configMap: cm({ Corefile: stripped }) }] };
    // After a restart (no hosts of its own yet), an empty set is confirmed, not trusted.
    expect(planReconcile(snapshot(state), config(), 1_000).empty).toEqual({
      kind: 'confirming',
      managed: 1,
      since: 1_000,
      waitMs: 3_010,
    });
    const confirmed = planReconcile(snapshot({ ...state, emptySince: 0 }), config(), 4_000);
    expect(confirmed.writes[0]!.data['Corefile']).toBe(kubeadm);
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

  describe('import mode', () => {
    const target = { namespace: 'kube-system', name: 'coredns-custom', key: 'hairpin.override' };
    const cfg = config(['--import-configmap', 'kube-system/coredns-custom']);
    const plan = (configMap: ReturnType<typeof cm> | undefined, hosts: string[]) =>
      planReconcile(
        snapshot({
          corefiles: [],
          importTarget: { target, configMap },
          ingresses: hosts.length === 0 ? [] : [ingress('shop', hosts)],
          lastHosts: hosts.length === 0 ? [] : undefined,
        }),
        cfg,
        0,
      );
    const imported = (key: string | undefined) =>
      key === undefined ? undefined : `.:53 {\n${key}\n}\n`;

    test('the .override key is created with the templates, removed when empty', () => {
      const created = plan(undefined, ['shop.example.com', '*.apps.example.com']);
      expect(created.writes[0]).toMatchObject({ target, create: { labels: {} } });
      const data = created.writes[0]!.data;
      expect(Object.keys(data)).toEqual(['hairpin.override']);
      const key = data['hairpin.override']!;
      expect(managed(imported(key))).toEqual(['*.apps.example.com', 'shop.example.com']);
      expect(key).not.toContain('hosts');
      expect(key.split('\n').filter((l) => l !== '' && !l.endsWith(M))).toEqual([]);
      // Planned again from what was written: nothing to do.
      expect(plan(cm(data), ['shop.example.com', '*.apps.example.com']).writes).toEqual([
        expect.objectContaining({ target: expect.objectContaining({ name: 'hairpin-hosts' }) }),
      ]);
      const emptied = plan(cm({ 'hairpin.override': key, 'other.server': 'y' }), []);
      expect(emptied.writes[0]!.data).toEqual({ 'other.server': 'y' });
    });

    test("an earlier version's rewrite rules in the key are replaced; the owner's keys stay", () => {
      const legacy = `${rule('shop.example.com')}\n`;
      const planned = plan(cm({ 'hairpin.override': legacy, 'log.override': 'log\n' }), [
        'shop.example.com',
      ]);
      const data = planned.writes[0]!.data;
      expect(Object.keys(data).sort()).toEqual(['hairpin.override', 'log.override']);
      expect(data['log.override']).toBe('log\n');
      expect(data['hairpin.override']).not.toContain('rewrite');
      expect(managed(imported(data['hairpin.override']))).toEqual(['shop.example.com']);
      expect(
        importEdit('hairpin.override', [], { target: RELAY })({ 'hairpin.override': legacy }),
      ).toEqual({});
    });
  });
});

describe('import mode on the real k3s layout (coredns-custom)', () => {
  // k3s's Corefile imports *.override inside the root block and *.server at the top level.
  const k3s = corpus('k3s.Corefile');
  const hosts = ['*.apps.example.com', 'shop.example.com'];
  const override = planReconcile(
    snapshot({
      corefiles: [],
      importTarget: {
        target: { namespace: 'kube-system', name: 'coredns-custom', key: 'hairpin.override' },
        configMap: undefined,
      },
      ingresses: [ingress('shop', hosts)],
    }),
    config(['--import-configmap', 'kube-system/coredns-custom']),
    0,
  ).writes[0]!.data['hairpin.override']!;

  test('.override content, imported where k3s imports it, is valid in the root block beside its hosts', () => {
    const imported = k3s.replace(
      '    import /etc/coredns/custom/*.override\n',
      override.replace(/^(?=.)/gm, '    '),
    );
    expect(imported).not.toBe(k3s);
    const root = findRootBlock(parseCorefile(imported));
    expect(root.directives.filter((d) => d.name === 'hosts')).toHaveLength(1);
    expect(root.directives.filter((d) => d.name === 'template')).toHaveLength(2);
    expect(managed(imported)).toEqual(hosts);
  });

  test('the same lines where k3s imports *.server are not valid there: .server is refused', () => {
    const imported = k3s.replace('import /etc/coredns/custom/*.server\n', override);
    expect(() => parseCorefile(imported)).toThrow(/^Corefile:\d+ - /);
    expect(() =>
      loadConfig(['--import-configmap', 'kube-system/coredns-custom:hairpin.server'], {}),
    ).toThrow(/key hairpin\.server must end in \.override/);
  });
});

describe('CorefileEditMemo', () => {
  const options = { target: RELAY, relayIPs: [IP] };
  const hosts = ['a.example.com', 'b.example.com'];

  test('the same edit, or the same hosts on its own result, is not computed again', () => {
    const memo = new CorefileEditMemo();
    const edited = memo.edit('kube-system/coredns:Corefile', kubeadm, hosts, options);
    expect(edited).toBe(applyCorefileHosts(kubeadm, hosts, options));
    // What it made is known as its own (the Reporter need not re-read it for `reload`).
    expect(memo.made('kube-system/coredns:Corefile', edited)).toBe(true);
    expect(memo.made('kube-system/coredns:Corefile', kubeadm)).toBe(false);
    expect(memo.made('kube-system/other:Corefile', edited)).toBe(false);
    // A result that is not the edit's would show: the memo answers only known inputs.
    const fake = `${edited}# not an edit\n`;
    (memo as unknown as { last: Map<string, { edited: string }> }).last.get(
      'kube-system/coredns:Corefile',
    )!.edited = fake;
    expect(memo.edit('kube-system/coredns:Corefile', kubeadm, [...hosts], options)).toBe(fake);
    expect(memo.edit('kube-system/coredns:Corefile', fake, hosts, options)).toBe(fake);
  });

  test('other hosts, text, options or target: edited anew', () => {
    const memo = new CorefileEditMemo();
    const where = 'kube-system/coredns:Corefile';
    const first = memo.edit(where, kubeadm, hosts, options);
    expect(memo.edit(where, kubeadm, ['c.example.com'], options)).toBe(
      applyCorefileHosts(kubeadm, ['c.example.com'], options),
    );
    const other = `${kubeadm}# owner's change\n`;
    expect(memo.edit(where, other, hosts, options)).toBe(applyCorefileHosts(other, hosts, options));
    const v6 = { ...options, relayIPs: [IP, IP6] };
    expect(memo.edit(where, first, hosts, v6)).toBe(applyCorefileHosts(first, hosts, v6));
    expect(memo.edit('kube-system/node-local-dns:Corefile', kubeadm, hosts, options)).toBe(first);
  });
});
