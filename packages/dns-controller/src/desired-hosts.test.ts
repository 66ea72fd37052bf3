import {
  classFilteredHosts,
  decideHosts,
  hostsFromGatewayApi,
  hostsFromIngress,
  type SourceFilter,
} from '@hairpin/shared';
import { describe, expect, test } from 'vitest';
import { desiredHosts, IngressHostsMemo } from './desired-hosts.ts';

const ingress = (name: string, cls: string | undefined, hosts: unknown[]) => ({
  metadata: { name, namespace: 'shop', uid: `uid-${name}` },
  spec: {
    ...(cls === undefined ? {} : { ingressClassName: cls }),
    rules: hosts.map((host) => ({ host })),
  },
});
const policy = { clusterDomain: 'cluster.local', allowedSuffixes: [] };
const nginx: SourceFilter = {
  ingressSources: ['tls', 'rules'],
  ingressClasses: ['nginx'],
  gatewayClasses: [],
};
const any: SourceFilter = {
  ingressSources: ['tls', 'rules'],
  ingressClasses: [],
  gatewayClasses: [],
};

/** The decision without the per-object cache: every candidate checked at once. */
function uncached(ingresses: readonly unknown[], filter: SourceFilter) {
  const candidates = [
    ...ingresses.flatMap((i) => hostsFromIngress(i, filter)),
    ...hostsFromGatewayApi([], [], filter),
  ];
  return {
    ...decideHosts(candidates, policy),
    proxyMode: [],
    classFiltered: classFilteredHosts({ ingresses, gateways: [], routes: [] }, filter),
  };
}

describe('desiredHosts, cached per object', () => {
  const objects = [
    ingress('b', 'nginx', ['Shop.example.com', 'x..example.com', 42]),
    ingress('a', 'nginx', ['shop.example.com', 'a.svc.cluster.local']),
    ingress('c', 'traefik', ['t.example.com']),
    ingress('d', undefined, ['d.example.com']),
  ];
  const memo = new IngressHostsMemo();
  const decide = (ingresses: readonly unknown[], filter: SourceFilter) =>
    desiredHosts({ ingresses, gateways: [], routes: [], services: [], filter, policy, memo });

  test('the same decision as checking every candidate, again and again', () => {
    for (let i = 0; i < 2; i++) expect(decide(objects, nginx)).toEqual(uncached(objects, nginx));
  });

  test('another filter is decided anew for the same objects', () => {
    decide(objects, nginx);
    expect(decide(objects, any)).toEqual(uncached(objects, any));
    expect(decide(objects, nginx)).toEqual(uncached(objects, nginx));
  });

  test('a replaced object is decided from its new content', () => {
    decide(objects, nginx);
    const changed = [...objects.slice(0, 3), ingress('d', 'nginx', ['d.example.com'])];
    expect(decide(changed, nginx)).toEqual(uncached(changed, nginx));
    expect(decide(changed, nginx).hosts).toContain('d.example.com');
  });
});

describe('IngressHostsMemo.sorted', () => {
  test('gives what sorting the whole set gives, through additions, removals and both', () => {
    const memo = new IngressHostsMemo();
    // A fixed pseudo-random walk (no flaky seeds): sets that grow, shrink and change.
    let seed = 7;
    const next = () => (seed = (seed * 48_271) % 2_147_483_647);
    let set = new Set<string>();
    for (let round = 0; round < 300; round++) {
      const changed = new Set(set);
      for (let k = next() % 12; k > 0; k--) changed.add(`h${next() % 500}.example.com`);
      for (let k = next() % 8; k > 0; k--) changed.delete(`h${next() % 500}.example.com`);
      // Now and then everything goes, or a name that sorts first or last comes.
      if (round % 50 === 49) changed.clear();
      if (round % 7 === 3) changed.add(round % 2 === 0 ? '0.example.com' : 'zz.example.com');
      set = changed;
      expect(memo.sorted(set)).toEqual([...set].sort());
    }
  });
});
