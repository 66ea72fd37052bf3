import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  classFilteredHosts,
  decideHosts,
  DEFAULT_SOURCE_FILTER,
  hostsFromGatewayApi,
  hostsFromIngress,
  type SourceFilter,
} from './sources.ts';

const policy = { clusterDomain: 'cluster.local', allowedSuffixes: [] };

function ingress(name: string, spec: unknown, annotations: Record<string, string> = {}) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'shop', uid: `uid-${name}`, annotations },
    spec,
  };
}

const shop = ingress('shop', {
  ingressClassName: 'nginx',
  tls: [{ hosts: ['shop.example.com', 'www.example.com'], secretName: 's' }],
  rules: [{ host: 'shop.example.com' }, { host: 'API.example.com' }, {}],
});

describe('hostsFromIngress', () => {
  test('tls and rules hosts with the object reference', () => {
    const got = hostsFromIngress(shop, DEFAULT_SOURCE_FILTER);
    expect(got.map((c) => c.host)).toEqual([
      'shop.example.com',
      'www.example.com',
      'shop.example.com',
      'API.example.com',
    ]);
    expect(got[0]!.ref).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      namespace: 'shop',
      name: 'shop',
      uid: 'uid-shop',
    });
  });

  test('sources are selectable', () => {
    const tlsOnly: SourceFilter = { ...DEFAULT_SOURCE_FILTER, ingressSources: ['tls'] };
    expect(hostsFromIngress(shop, tlsOnly).map((c) => c.host)).toEqual([
      'shop.example.com',
      'www.example.com',
    ]);
  });

  test('class filter: spec.ingressClassName, the legacy annotation, unclassed left out', () => {
    const filter: SourceFilter = { ...DEFAULT_SOURCE_FILTER, ingressClasses: ['nginx'] };
    const legacy = ingress(
      'legacy',
      { rules: [{ host: 'a.example.com' }] },
      { 'kubernetes.io/ingress.class': 'nginx' },
    );
    const other = ingress('other', {
      ingressClassName: 'traefik',
      rules: [{ host: 'b.example.com' }],
    });
    const none = ingress('none', { rules: [{ host: 'c.example.com' }] });
    expect(hostsFromIngress(legacy, filter).map((c) => c.host)).toEqual(['a.example.com']);
    expect(hostsFromIngress(other, filter)).toEqual([]);
    expect(hostsFromIngress(none, filter)).toEqual([]);
    expect(hostsFromIngress(none, DEFAULT_SOURCE_FILTER).map((c) => c.host)).toEqual([
      'c.example.com',
    ]);
  });

  test('malformed objects never throw', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (spec, meta) => {
        expect(() =>
          hostsFromIngress({ metadata: meta, spec }, DEFAULT_SOURCE_FILTER),
        ).not.toThrow();
        expect(() => hostsFromIngress(spec, DEFAULT_SOURCE_FILTER)).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });
});

describe('hostsFromGatewayApi', () => {
  const gw = (name: string, cls: string, hostnames: (string | undefined)[]) => ({
    metadata: { name, namespace: 'infra' },
    spec: {
      gatewayClassName: cls,
      listeners: hostnames.map((hostname) => ({ name: 'l', hostname })),
    },
  });
  const route = (name: string, parentRefs: unknown[], hostnames: string[]) => ({
    metadata: { name, namespace: 'shop' },
    spec: { parentRefs, hostnames },
  });

  test('listener hostnames and attached routes of selected gateways', () => {
    const gateways = [
      gw('public', 'cilium', ['*.example.com', undefined]),
      gw('internal', 'istio', ['int.example.com']),
    ];
    const routes = [
      route('a', [{ name: 'public', namespace: 'infra' }], ['a.example.com']),
      route('b', [{ name: 'internal', namespace: 'infra' }], ['b.example.com']),
      route('c', [{ name: 'public' }], ['c.example.com']), // same namespace as the route: no such gateway
      route(
        'd',
        [{ name: 'public', namespace: 'infra', kind: 'Service', group: '' }],
        ['d.example.com'],
      ),
    ];
    const filter: SourceFilter = { ...DEFAULT_SOURCE_FILTER, gatewayClasses: ['cilium'] };
    const got = hostsFromGatewayApi(gateways, routes, filter);
    expect(got.map((c) => `${c.ref.kind}/${c.ref.name}:${c.host}`)).toEqual([
      'Gateway/public:*.example.com',
      'HTTPRoute/a:a.example.com',
    ]);
    expect(
      hostsFromGatewayApi(gateways, routes, DEFAULT_SOURCE_FILTER)
        .map((c) => c.host)
        .sort(),
    ).toEqual(['*.example.com', 'a.example.com', 'b.example.com', 'int.example.com']);
  });
});

describe('decideHosts', () => {
  test('valid hosts survive hostile neighbours; every refusal is reported with its object', () => {
    const candidates = [
      ...hostsFromIngress(shop, DEFAULT_SOURCE_FILTER),
      ...hostsFromIngress(
        ingress('evil', {
          rules: [
            { host: 'x.example.com\n}' },
            { host: 'kubernetes.default.svc.cluster.local' },
            { host: 'ok.example.com' },
          ],
        }),
        DEFAULT_SOURCE_FILTER,
      ),
    ];
    const decision = decideHosts(candidates, policy);
    expect(decision.hosts).toEqual([
      'api.example.com',
      'ok.example.com',
      'shop.example.com',
      'www.example.com',
    ]);
    expect(decision.rejected.map((r) => [r.ref.name, r.reason])).toEqual([
      ['evil', 'invalid_characters'],
      ['evil', 'cluster_domain'],
    ]);
  });

  test.each([
    ['an array', ['a.com'], '["a.com"]'],
    ['a number', 42, '42'],
    ['an object', { toString: () => 'a.com' }, '{}'],
    ['a boolean', true, 'true'],
  ])('a host that is %s is refused as not-a-string, never stringified', (_kind, value, shown) => {
    const candidates = [
      ...hostsFromIngress(
        ingress('odd', {
          tls: [{ hosts: [value] }],
          rules: [{ host: value }, { host: 'ok.example.com' }],
        }),
        DEFAULT_SOURCE_FILTER,
      ),
      ...hostsFromGatewayApi(
        [
          {
            metadata: { name: 'gw', namespace: 'infra' },
            spec: { listeners: [{ hostname: value }] },
          },
        ],
        [
          {
            metadata: { name: 'r', namespace: 'infra' },
            spec: { parentRefs: [{ name: 'gw' }], hostnames: [value] },
          },
        ],
        DEFAULT_SOURCE_FILTER,
      ),
    ];
    const decision = decideHosts(candidates, policy);
    expect(decision.hosts).toEqual(['ok.example.com']);
    expect(decision.rejected.map((r) => [r.ref.kind, r.reason, r.host])).toEqual([
      ['Ingress', 'not_a_string', shown],
      ['Ingress', 'not_a_string', shown],
      ['Gateway', 'not_a_string', shown],
      ['HTTPRoute', 'not_a_string', shown],
    ]);
  });

  test('a host field that is null (YAML `host:`) is no host', () => {
    const found = hostsFromIngress(
      ingress('n', { rules: [{ host: null }] }),
      DEFAULT_SOURCE_FILTER,
    );
    expect(found).toEqual([]);
  });
});

describe('classFilteredHosts', () => {
  const ing = (name: string, cls: string | undefined, host: string) =>
    ingress(name, { ...(cls === undefined ? {} : { ingressClassName: cls }), rules: [{ host }] });
  const gw = (name: string, cls: string, hostname: string) => ({
    metadata: { name, namespace: 'infra' },
    spec: { gatewayClassName: cls, listeners: [{ name: 'l', hostname }] },
  });
  const route = (name: string, parents: string[], host: string) => ({
    metadata: { name, namespace: 'shop' },
    spec: {
      parentRefs: parents.map((p) => ({ name: p, namespace: 'infra' })),
      hostnames: [host],
    },
  });
  const objects = {
    ingresses: [
      ing('a', 'nginx', 'a.example.com'),
      ing('b', 'traefik', 'b.example.com'),
      ing('c', undefined, 'c.example.com'),
    ],
    gateways: [gw('public', 'cilium', 'gw.example.com'), gw('other', 'istio', 'other.example.com')],
    routes: [
      route('r1', ['other'], 'r1.example.com'),
      route('r2', ['other', 'public'], 'r2.example.com'),
      route('r3', ['missing'], 'r3.example.com'),
    ],
  };
  const show = (cs: { host: unknown; ref: { kind: string; name: string } }[]) =>
    cs.map((c) => `${c.ref.kind}/${c.ref.name}:${String(c.host)}`);

  test('what only the class filters keep out: other classes, unclassed, routes of other gateways', () => {
    const filter: SourceFilter = {
      ...DEFAULT_SOURCE_FILTER,
      ingressClasses: ['nginx'],
      gatewayClasses: ['cilium'],
    };
    expect(show(classFilteredHosts(objects, filter))).toEqual([
      'Ingress/b:b.example.com',
      'Ingress/c:c.example.com',
      'Gateway/other:other.example.com',
      'HTTPRoute/r1:r1.example.com',
    ]);
    // Exactly the complement of what is extracted, within what exists unfiltered.
    const kept = [
      ...objects.ingresses.flatMap((i) => hostsFromIngress(i, filter)),
      ...hostsFromGatewayApi(objects.gateways, objects.routes, filter),
    ];
    expect(show(kept)).toEqual([
      'Ingress/a:a.example.com',
      'Gateway/public:gw.example.com',
      'HTTPRoute/r2:r2.example.com',
    ]);
  });

  test('no class filter: nothing is filtered', () => {
    expect(classFilteredHosts(objects, DEFAULT_SOURCE_FILTER)).toEqual([]);
    const onlyIngress = { ...DEFAULT_SOURCE_FILTER, ingressClasses: ['nginx'] };
    expect(show(classFilteredHosts(objects, onlyIngress))).toEqual([
      'Ingress/b:b.example.com',
      'Ingress/c:c.example.com',
    ]);
  });
});

test('decideHosts: every accepted candidate with its normalised host and object', () => {
  const decision = decideHosts(hostsFromIngress(shop, DEFAULT_SOURCE_FILTER), policy);
  expect(decision.accepted.map((c) => `${c.ref.name}:${c.host}`)).toEqual([
    'shop:shop.example.com',
    'shop:www.example.com',
    'shop:shop.example.com',
    'shop:api.example.com',
  ]);
});
