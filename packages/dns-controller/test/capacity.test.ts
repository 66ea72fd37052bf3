// Past the 1 MiB a ConfigMap holds: a decided set of hosts is served (the oldest objects
// first), the rest are reported, hairpin-hosts publishes exactly what DNS serves, and a
// write the API server refuses is not sent again until something changes. The Corefile
// edit itself is the real one, so this holds whatever its encoding.
import { managedCorefileHosts } from '@hairpin/shared';
import { afterEach, describe, expect, test } from 'vitest';
import { CONFIGMAP_MAX_BYTES, configMapSize } from '../src/capacity.ts';
import {
  corednsConfigMap,
  ingress,
  RELAY,
  relayService,
  startHarness,
  waitFor,
  type Harness,
} from './harness.ts';

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stop();
});

// Long names (about 200 bytes) fill a ConfigMap with a few thousand hosts in any encoding.
const label = (c: string) => c.repeat(60);
const host = (obj: number, i: number) =>
  `h${i}-${obj}.${label('a')}.${label('b')}.${label('c')}.example.com`;
const OBJECTS = 60;
const PER_OBJECT = 100;
const name = (obj: number) => `app-${String(obj).padStart(3, '0')}`;

function coredns(h: Harness): Record<string, string> {
  return h.fake.get('v1', 'ConfigMap', 'kube-system', 'coredns')!['data'] as Record<string, string>;
}

describe('capacity', () => {
  test('over 1 MiB: the oldest objects served, the rest not_served, reported once; back under, all served', async () => {
    const h = await startHarness([], { logs: true });
    harnesses.push(h);
    h.fake.create(corednsConfigMap());
    h.fake.create(relayService());
    for (let o = 0; o < OBJECTS; o++) {
      h.fake.create(
        ingress(
          name(o),
          Array.from({ length: PER_OBJECT }, (_, i) => host(o, i)),
        ),
      );
    }
    const total = OBJECTS * PER_OBJECT;
    await waitFor(async () => ((await h.value('hairpin_dns_not_served_hosts')) ?? 0) > 0, 60_000);
    await waitFor(() => (h.published()?.['notServedCount'] ?? '') !== '', 60_000);

    // DNS serves a prefix of the order: same timestamps (whole seconds), so by name.
    const served = managedCorefileHosts(coredns(h)['Corefile']!, { target: RELAY });
    const notServed = total - served.length;
    expect(served.length).toBeGreaterThan(0);
    expect(notServed).toBeGreaterThan(0);
    expect(configMapSize(coredns(h))).toBeLessThanOrEqual(CONFIGMAP_MAX_BYTES);
    const servedSet = new Set(served);
    const objectServed = (o: number) =>
      Array.from({ length: PER_OBJECT }, (_, i) => servedSet.has(host(o, i)));
    expect(objectServed(0).every(Boolean)).toBe(true);
    expect(objectServed(OBJECTS - 1).some(Boolean)).toBe(false);
    const firstLeftOut = Array.from({ length: OBJECTS }, (_, o) => o).find(
      (o) => !objectServed(o).every(Boolean),
    )!;
    for (let o = firstLeftOut + 1; o < OBJECTS; o++)
      expect(objectServed(o).some(Boolean)).toBe(false);

    // hairpin-hosts: exactly the served set, and how many are left out.
    const published = h.published()!;
    expect(published['hosts']).toBe(
      [...served]
        .sort()
        .map((x) => `${x}\n`)
        .join(''),
    );
    expect(Number(published['notServedCount'])).toBe(notServed);
    expect(configMapSize(published)).toBeLessThanOrEqual(CONFIGMAP_MAX_BYTES);

    // /status, the metrics.
    const status = h.controller.status();
    const rows = status.hosts.filter((r) => r.state === 'not_served');
    expect(rows).toHaveLength(notServed);
    expect(rows.every((r) => r.reason === 'capacity')).toBe(true);
    expect(status.hosts.filter((r) => r.state === 'managed')).toHaveLength(served.length);
    await waitFor(async () => (await h.value('hairpin_dns_managed_hosts')) === served.length);
    expect(await h.value('hairpin_dns_not_served_hosts')).toBe(notServed);

    // Calm: one Event, one log line, no more writes while nothing changes.
    await waitFor(() => h.fake.list('v1', 'Event', 'kube-system').length >= 1);
    const writes = h.puts(/configmaps\/(coredns|hairpin-hosts)$/);
    const svc = h.fake.get('v1', 'Service', 'hairpin', 'hairpin-relay')!;
    h.fake.replace({ ...svc, metadata: { ...svc.metadata, labels: { poke: '1' } } });
    await new Promise((r) => setTimeout(r, 500));
    expect(h.puts(/configmaps\/(coredns|hairpin-hosts)$/)).toBe(writes);
    const events = h.fake.list('v1', 'Event', 'kube-system');
    expect(events.map((e) => e['reason'])).toEqual(['HostsNotServed']);
    expect(String(events[0]!['message'])).toContain(`${notServed} of ${total} hosts not served`);
    const full = h.logs.filter((l) => l.includes('DNS is full'));
    expect(full).toHaveLength(1);
    for (const line of h.logs) expect(line.length).toBeLessThan(2000);

    // Back under capacity: everything served, the report cleared.
    for (let o = firstLeftOut; o < OBJECTS; o++) {
      h.fake.delete('networking.k8s.io/v1', 'Ingress', 'shop', name(o));
    }
    await waitFor(async () => (await h.value('hairpin_dns_not_served_hosts')) === 0, 30_000);
    await waitFor(() => h.published()?.['notServedCount'] === undefined, 30_000);
    const after = managedCorefileHosts(coredns(h)['Corefile']!, { target: RELAY });
    expect(after).toHaveLength(firstLeftOut * PER_OBJECT);
    expect(h.controller.status().hosts.some((r) => r.state === 'not_served')).toBe(false);
  });

  test('a write the API server refuses (422) is not sent again until the hosts change; its log line is short', async () => {
    const h = await startHarness([], { logs: true });
    harnesses.push(h);
    h.fake.create(corednsConfigMap());
    h.fake.create(relayService());
    h.fake.failNext(1, 422, /configmaps\/coredns$/, 'PUT');
    h.fake.create(ingress('shop', ['shop.example.com']));
    await waitFor(() => h.logs.some((l) => l.includes('write refused by the API server')));
    const refused = h.puts(/configmaps\/coredns$/);
    expect(refused).toBe(1);
    // Other events wake the controller: the same write is not sent again.
    for (let i = 0; i < 3; i++) {
      const svc = h.fake.get('v1', 'Service', 'hairpin', 'hairpin-relay')!;
      h.fake.replace({ ...svc, metadata: { ...svc.metadata, labels: { poke: String(i) } } });
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(h.puts(/configmaps\/coredns$/)).toBe(1);
    const status = h.controller.status();
    const entry = status.configMaps.find((c) => c.name === 'coredns');
    expect(entry?.lastResult).toBe('failed');
    expect(entry?.error).toContain('HTTP 422');
    const line = h.logs.find((l) => l.includes('write refused by the API server'))!;
    expect(Buffer.byteLength(line)).toBeLessThan(500);
    expect(line).toContain('HTTP 422');
    // The inputs change: written.
    h.fake.create(ingress('api', ['api.example.com']));
    await waitFor(() => h.puts(/configmaps\/coredns$/) === 2);
    const hosts = managedCorefileHosts(h.corefile()!, { target: RELAY });
    expect(hosts).toEqual(['api.example.com', 'shop.example.com']);
  });
});
