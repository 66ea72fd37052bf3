import {
  classFilteredHosts,
  decideHosts,
  hostsFromGatewayApi,
  hostsFromIngress,
  type SourceFilter,
} from '@hairpin/shared';
import fc from 'fast-check';
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
  // Sources of a few hosts from a small pool (so that sources share hosts), added,
  // dropped, replaced and all cleared, in random sequences.
  const list = fc.array(
    fc.constantFrom(
      '0.example.com',
      'zz.example.com',
      ...Array.from({ length: 40 }, (_, i) => `h${i}.example.com`),
    ),
    { maxLength: 5 },
  );
  const step = fc.oneof(
    fc.record({ add: list }),
    fc.record({ drop: fc.nat() }),
    fc.record({ replace: fc.nat(), with: list }),
    fc.constant({ clear: true as const }),
  );

  test('gives what collecting and sorting every list gives, as sources come, go and change', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const counts = new HostCounts();
        const sources = new Map<unknown, readonly string[]>();
        for (const s of steps) {
          const keys = [...sources.keys()];
          if ('add' in s) sources.set({}, s.add);
          else if ('clear' in s) sources.clear();
          else if (keys.length > 0 && 'drop' in s) sources.delete(keys[s.drop % keys.length]);
          else if (keys.length > 0 && 'replace' in s)
            sources.set(keys[s.replace % keys.length], s.with);
          const expected = [...new Set([...sources.values()].flat())].sort();
          expect(counts.update(sources)).toEqual(expected);
        }
      }),
      { numRuns: 200 },
    );
  });

  test('the same list object while nothing changes', () => {
    const counts = new HostCounts();
    const a = {};
    const first = counts.update(new Map([[a, ['b.example.com', 'a.example.com']]]));
    expect(counts.update(new Map([[a, ['b.example.com', 'a.example.com']]]))).toBe(first);
  });
});

describe('desiredHosts, cached, through random changes', () => {
  const hosts = fc.array(
    fc.oneof(
      fc.constant('Not A Host'),
      fc.nat(39).map((i) => `h${i}.example.com`),
    ),
    { maxLength: 4 },
  );
  const change = fc.record({
    add: fc.option(fc.record({ cls: fc.constantFrom('nginx', 'x'), hosts })),
    remove: fc.option(fc.nat()),
    replace: fc.option(fc.record({ at: fc.nat(), hosts })),
  });

  test('the same decision as the uncached path after each change', () => {
    fc.assert(
      fc.property(fc.array(change, { maxLength: 30 }), (changes) => {
        const memo = new IngressHostsMemo();
        let objects: unknown[] = [];
        changes.forEach((c, round) => {
          const changed = [...objects];
          if (c.add !== null) changed.push(ingress(`i${round}`, c.add.cls, c.add.hosts));
          if (changed.length > 0 && c.remove !== null) changed.splice(c.remove % changed.length, 1);
          if (changed.length > 0 && c.replace !== null) {
            changed[c.replace.at % changed.length] = ingress(`r${round}`, 'nginx', c.replace.hosts);
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
        });
      }),
      { numRuns: 100 },
    );
  });
});
