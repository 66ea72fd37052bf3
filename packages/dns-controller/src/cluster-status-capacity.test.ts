// `status` when DNS is full (issue 19): hosts left out are listed as not_served, and a
// ConfigMap that lacks hosts another holds is not "ok".
import { describe, expect, test } from 'vitest';
import { buildClusterStatus, formatClusterStatus } from './cluster-status.ts';
import { loadConfig } from './config.ts';

const config = loadConfig([], {});
const now = new Date('2026-01-01T12:00:00Z');
const observe = (published: Record<string, string>, corefile = '.:53 {\n    errors\n}\n') =>
  buildClusterStatus(
    config,
    {
      targets: [
        {
          target: config.corefiles[0]!,
          role: 'corefile',
          configMap: { data: { Corefile: corefile } },
        },
      ],
      published: { data: published },
      events: [],
      lease: undefined,
    },
    now,
  );

describe('status over capacity', () => {
  test('hosts listed in hairpin-hosts as not served: not_served (capacity), with the total', () => {
    const s = observe({
      hosts: '',
      relayIP: '10.96.0.50',
      notServed: 'c.example.com\nd.example.com\n',
      notServedCount: '5',
    });
    expect(s.notServed).toBe(5);
    expect(s.hosts.map((h) => [h.host, h.state, h.reason])).toEqual([
      ['c.example.com', 'not_served', 'capacity'],
      ['d.example.com', 'not_served', 'capacity'],
    ]);
    const text = formatClusterStatus(s);
    expect(text).toContain('DNS is full: 5 hosts not served (capacity), 2 listed below');
    expect(text).toMatch(/c\.example\.com\s+not_served/);
  });

  test('the ConfigMap table agrees with the host list: a key missing hosts is incomplete', () => {
    const s = observe({ hosts: 'a.example.com\nb.example.com\n', relayIP: '10.96.0.50' });
    const coredns = s.configMaps.find((c) => c.name === 'coredns')!;
    expect(coredns).toMatchObject({ state: 'incomplete', hosts: 0, missing: 2 });
    const published = s.configMaps.find((c) => c.name === 'hairpin-hosts')!;
    expect(published).toMatchObject({ state: 'ok', hosts: 2 });
    expect(s.hosts.every((h) => h.state === 'managed' && h.missingFrom?.length === 1)).toBe(true);
    expect(formatClusterStatus(s)).toContain('incomplete: 2 hosts missing');
  });
});
