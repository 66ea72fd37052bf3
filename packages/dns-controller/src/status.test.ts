import { describe, expect, test } from 'vitest';
import { desiredHosts } from './desired-hosts.ts';
import { buildStatus, ConfigMapWriteLog, describeError } from './status.ts';

const ingress = (name: string, cls: string, hosts: string[], status?: unknown) => ({
  metadata: { name, namespace: 'shop' },
  spec: { ingressClassName: cls, rules: hosts.map((host) => ({ host })) },
  ...(status === undefined ? {} : { status }),
});
const lbService = {
  metadata: { name: 'lb', namespace: 'ingress' },
  status: { loadBalancer: { ingress: [{ ip: '203.0.113.10', ipMode: 'Proxy' }] } },
};
const behindProxy = { loadBalancer: { ingress: [{ ip: '203.0.113.10' }] } };

describe('buildStatus', () => {
  const decision = desiredHosts({
    ingresses: [
      ingress('b', 'nginx', ['Shop.example.com', 'x..example.com']),
      ingress('a', 'nginx', ['shop.example.com', 'x..example.com']),
      ingress('lb', 'nginx', ['proxied.example.com'], behindProxy),
      ingress('other', 'traefik', ['shop.example.com']),
    ],
    gateways: [],
    routes: [],
    services: [lbService],
    filter: { ingressSources: ['tls', 'rules'], ingressClasses: ['nginx'], gatewayClasses: [] },
    policy: { clusterDomain: 'cluster.local', allowedSuffixes: [] },
  });
  const report = buildStatus({
    identity: 'pod-a',
    leader: false,
    synced: true,
    decision,
    writes: [],
    now: new Date('2026-01-02T03:04:05Z'),
  });

  test('one row per host and state, sorted, objects merged and sorted', () => {
    expect(report).toMatchObject({
      identity: 'pod-a',
      leader: false,
      synced: true,
      generatedAt: '2026-01-02T03:04:05.000Z',
    });
    expect(
      report.hosts.map((h) => [h.host, h.state, h.reason, h.sources.map((s) => s.name)]),
    ).toEqual([
      ['proxied.example.com', 'skipped', 'ipmode_proxy', ['lb']],
      ['shop.example.com', 'managed', undefined, ['a', 'b']],
      ['shop.example.com', 'filtered', 'ingress_class', ['other']],
      ['x..example.com', 'rejected', 'invalid_characters', ['a', 'b']],
    ]);
    expect(report.hosts[1]!.sources[0]).toEqual({ kind: 'Ingress', namespace: 'shop', name: 'a' });
    expect(report.hosts[3]!.message).toContain('is not a valid DNS name');
  });

  test('what is managed is unchanged by the report data', () => {
    expect(decision.hosts).toEqual(['shop.example.com']);
  });
});

describe('ConfigMapWriteLog', () => {
  test('the last result and when, the last write time kept across unchanged and failed', () => {
    let t = Date.parse('2026-01-01T00:00:00Z');
    const log = new ConfigMapWriteLog(() => new Date(t));
    const target = { namespace: 'kube-system', name: 'coredns', key: 'Corefile' };
    log.record(target, 'unchanged');
    expect(log.list()[0]).toMatchObject({ lastResult: 'unchanged', lastWriteTime: null });
    t += 1000;
    log.record(target, 'written');
    t += 1000;
    log.record(target, 'failed', Object.assign(new Error('bad'), { code: 'HAIRPIN_X' }));
    expect(log.list()).toEqual([
      {
        ...target,
        lastWriteTime: '2026-01-01T00:00:01.000Z',
        lastResult: 'failed',
        lastResultTime: '2026-01-01T00:00:02.000Z',
        error: 'HAIRPIN_X: bad',
      },
    ]);
  });
});

describe('describeError', () => {
  test('an API error: its status and the Status message, never the dump', () => {
    const body = JSON.stringify({ kind: 'Status', message: 'configmaps "coredns" is forbidden' });
    const err = Object.assign(new Error(`HTTP-Code: 403\nMessage: x\nBody: ${body}\nHeaders: {}`), {
      code: 403,
      body,
    });
    expect(describeError(err)).toBe('HTTP 403: configmaps "coredns" is forbidden');
    expect(describeError({ code: 500, body: 'not json' })).toBe('HTTP 500: not json');
  });

  test('a failed fetch: its cause, on one line', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
    });
    expect(describeError(new TypeError('fetch failed', { cause }))).toBe(
      'fetch failed: connect ECONNREFUSED 127.0.0.1:1',
    );
    expect(describeError('a\n  b')).toBe('a b');
  });
});
