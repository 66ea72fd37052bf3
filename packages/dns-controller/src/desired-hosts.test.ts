import {
  classFilteredHosts,
  decideHosts,
  hostsFromGatewayApi,
  hostsFromIngress,
  type SourceFilter,
} from '@hairpin/shared';
import { describe, expect, test } from 'vitest';
import { desiredHosts, HostCounts, IngressHostsMemo } from './desired-hosts.ts';

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

describe('HostCounts', () => {
  test('gives what collecting and sorting every list gives, as sources come, go and change', () => {
    const counts = new HostCounts();
    // A fixed pseudo-random walk (no flaky seeds): sources of a few hosts from a small
    // pool (so that sources share hosts), added, dropped and replaced.
    let seed = 7;
    const next = () => (seed = (seed * 48_271) % 2_147_483_647);
    const list = () =>
      Array.from({ length: next() % 5 }, () => `h${next() % 60}.example.com`).concat(
        next() % 9 === 0 ? ['0.example.com', 'zz.example.com'] : [],
      );
    let sources = new Map<unknown, readonly string[]>();
    for (let round = 0; round < 300; round++) {
      const changed = new Map(sources);
      const keys = [...changed.keys()];
      for (let k = next() % 4; k > 0; k--) changed.set({}, list());
      for (let k = next() % 3; k > 0 && keys.length > 0; k--) {
        changed.delete(keys[next() % keys.length]);
      }
      if (keys.length > 0) changed.set(keys[next() % keys.length], list());
      if (round % 50 === 49) changed.clear();
      sources = changed;
      const expected = [...new Set([...sources.values()].flat())].sort();
      expect(counts.update(sources)).toEqual(expected);
    }
  });

  test('the same list object while nothing changes', () => {
    const counts = new HostCounts();
    const a = {};
    const first = counts.update(new Map([[a, ['b.example.com', 'a.example.com']]]));
    expect(counts.update(new Map([[a, ['b.example.com', 'a.example.com']]]))).toBe(first);
  });
});

describe('desiredHosts, cached, through random changes', () => {
  test('the same decision as the uncached path after each change', () => {
    const memo = new IngressHostsMemo();
    let seed = 11;
    const next = () => (seed = (seed * 48_271) % 2_147_483_647);
    const hosts = () =>
      Array.from({ length: next() % 4 }, () =>
        next() % 13 === 0 ? 'Not A Host' : `h${next() % 40}.example.com`,
      );
    let objects: unknown[] = [];
    for (let round = 0; round < 200; round++) {
      const changed = [...objects];
      if (next() % 2 === 0)
        changed.push(ingress(`i${round}`, next() % 4 === 0 ? 'x' : 'nginx', hosts()));
      if (changed.length > 0 && next() % 3 === 0) changed.splice(next() % changed.length, 1);
      if (changed.length > 0 && next() % 3 === 0) {
        changed[next() % changed.length] = ingress(`r${round}`, 'nginx', hosts());
      }
      objects = changed;
      const cached = desiredHosts({
        ingresses: objects,
        gateways: [],
        routes: [],
        services: [],
        filter: nginx,
        policy,
        memo,
      });
      expect(cached).toEqual(uncached(objects, nginx));
    }
  });
});
