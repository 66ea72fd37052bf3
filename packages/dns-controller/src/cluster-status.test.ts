import { applyCorefileHosts, renderCorefileOverride } from '@hairpin/shared';
import { describe, expect, test } from 'vitest';
import {
  buildClusterStatus,
  formatClusterStatus,
  type ClusterObservation,
  type EventLike,
} from './cluster-status.ts';
import { loadConfig } from './config.ts';

const RELAY = 'hairpin-relay.hairpin.svc.cluster.local';
const edit = { target: RELAY, relayIPs: ['10.96.0.50'] };
/** A Corefile as the controller writes it for `hosts`. */
const corefile = (...hosts: string[]) =>
  applyCorefileHosts('.:53 {\n    errors\n    reload\n}\n', hosts, edit);
const cm = (key: string, text: string, times: string[] = []) => ({
  metadata: { managedFields: times.map((time) => ({ time })) },
  data: { [key]: text },
});
const now = new Date('2026-01-01T12:00:00Z');
const refused = (name: string, message: string, lastTimestamp: string): EventLike => ({
  reason: 'HostnameRefused',
  message: `hairpin will not route this host: ${message}`,
  involvedObject: { kind: 'Ingress', namespace: 'shop', name },
  lastTimestamp,
});

const config = loadConfig(
  [
    '--coredns-configmap',
    'kube-system/coredns',
    '--coredns-configmap',
    'kube-system/node-local-dns',
    '--coredns-configmap',
    'kube-system/gone',
    '--import-configmap',
    'kube-system/coredns-custom',
  ],
  {},
);
const seen: ClusterObservation = {
  targets: [
    {
      target: config.corefiles[0]!,
      role: 'corefile',
      configMap: cm('Corefile', corefile('a.example.com', 'b.example.com'), [
        '2026-01-01T11:00:00Z',
        '2026-01-01T11:58:00Z',
      ]),
    },
    { target: config.corefiles[1]!, role: 'corefile', configMap: cm('Corefile', '.:53 {\n') },
    { target: config.corefiles[2]!, role: 'corefile', configMap: undefined },
    {
      target: config.importTarget!,
      role: 'import',
      configMap: cm('hairpin.override', renderCorefileOverride(['a.example.com'], edit)),
    },
  ],
  published: { data: { hosts: 'a.example.com\nb.example.com\n', relayIP: '10.96.0.50' } },
  events: [
    refused('evil', '"x.cluster.local" is under the cluster domain', '2026-01-01T11:50:00Z'),
    refused('evil', '"x.cluster.local" is under the cluster domain', '2026-01-01T11:59:00Z'),
    refused('evil', '"x.cluster.local" is under the cluster domain', '2026-01-01T11:40:00Z'),
    refused('huge', 'hostname is longer than 253 bytes', '2026-01-01T11:59:30Z'),
    { reason: 'CorefileNotEditable', message: 'not ours to show here' },
  ],
  lease: {
    spec: { holderIdentity: 'pod-a', renewTime: '2026-01-01T11:59:58Z', leaseDurationSeconds: 15 },
  },
};

describe('buildClusterStatus', () => {
  const s = buildClusterStatus(config, seen, now);

  test('managed hosts: where each is found, and where it is missing', () => {
    expect(s.hosts.filter((h) => h.state === 'managed')).toEqual([
      {
        host: 'a.example.com',
        state: 'managed',
        in: [
          'hairpin/hairpin-hosts:hosts',
          'kube-system/coredns:Corefile',
          'kube-system/coredns-custom:hairpin.override',
        ],
        missingFrom: [],
        sources: [],
      },
      {
        host: 'b.example.com',
        state: 'managed',
        in: ['hairpin/hairpin-hosts:hosts', 'kube-system/coredns:Corefile'],
        missingFrom: ['kube-system/coredns-custom:hairpin.override'],
        sources: [],
      },
    ]);
  });

  test('refusals: one row per object and message, the latest time; other reasons ignored', () => {
    expect(s.hosts.filter((h) => h.state === 'rejected')).toEqual([
      {
        host: '',
        state: 'rejected',
        reason: 'HostnameRefused',
        message: 'hostname is longer than 253 bytes',
        sources: [{ kind: 'Ingress', namespace: 'shop', name: 'huge' }],
        lastSeen: '2026-01-01T11:59:30.000Z',
      },
      {
        host: 'x.cluster.local',
        state: 'rejected',
        reason: 'HostnameRefused',
        message: '"x.cluster.local" is under the cluster domain',
        sources: [{ kind: 'Ingress', namespace: 'shop', name: 'evil' }],
        lastSeen: '2026-01-01T11:59:00.000Z',
      },
    ]);
  });

  test('each ConfigMap: found, missing, unreadable, with its last change', () => {
    expect(s.configMaps.map((c) => [c.name, c.role, c.state, c.hosts, c.lastChange])).toEqual([
      ['hairpin-hosts', 'published', 'ok', 2, null],
      ['coredns', 'corefile', 'ok', 2, '2026-01-01T11:58:00.000Z'],
      ['node-local-dns', 'corefile', 'unreadable', 0, null],
      ['gone', 'corefile', 'not-found', 0, null],
      ['coredns-custom', 'import', 'incomplete', 1, null],
    ]);
    // The import key holds a, not b: incomplete, by one host.
    expect(s.configMaps[4]!.missing).toBe(1);
    expect(s.configMaps[2]!.error).toMatch(/^HAIRPIN_COREFILE_PARSE: /);
    expect(s.configMaps[3]!.error).toBe('no such ConfigMap');
  });

  test('the Lease: fresh, expired, released, absent', () => {
    expect(s.leader).toEqual({
      lease: 'hairpin/hairpin-dns-controller',
      found: true,
      holder: 'pod-a',
      renewTime: '2026-01-01T11:59:58.000Z',
      renewedSecondsAgo: 2,
      fresh: true,
    });
    const at = (lease: ClusterObservation['lease']) =>
      buildClusterStatus(config, { ...seen, lease }, now).leader;
    expect(
      at({ spec: { holderIdentity: 'pod-a', renewTime: '2026-01-01T11:59:00Z' } }),
    ).toMatchObject({ fresh: false, renewedSecondsAgo: 60 });
    expect(at({ spec: { holderIdentity: '', renewTime: '2026-01-01T11:59:59Z' } })).toMatchObject({
      fresh: false,
      holder: null,
    });
    expect(at(undefined)).toMatchObject({ found: false, fresh: false, holder: null });
  });
});

describe('formatClusterStatus', () => {
  test('the leader, a host table and a ConfigMap table', () => {
    const text = formatClusterStatus(buildClusterStatus(config, seen, now));
    expect(text).toContain('leader: pod-a (Lease hairpin/hairpin-dns-controller renewed 2s ago)\n');
    expect(text).toContain(
      '\n  kubectl get --raw /api/v1/namespaces/hairpin/pods/pod-a:9090/proxy/status\n',
    );
    expect(text).toMatch(
      /^b\.example\.com +managed +- +hairpin-hosts, kube-system\/coredns:Corefile; MISSING from kube-system\/coredns-custom:hairpin\.override$/m,
    );
    expect(text).toMatch(/^- +rejected +Ingress shop\/huge \(30s ago\) +hostname is longer/m);
    expect(text).toMatch(/^kube-system\/coredns +Corefile +corefile +2 +2m ago +ok$/m);
    expect(text).toMatch(
      /^kube-system\/coredns-custom +hairpin\.override +import +1 +- +incomplete: 1 hosts missing$/m,
    );
    expect(text).toMatch(
      /^kube-system\/gone +Corefile +corefile +0 +- +not-found: no such ConfigMap$/m,
    );
    const expired = buildClusterStatus(
      config,
      { ...seen, lease: { spec: { holderIdentity: 'pod-b', renewTime: '2026-01-01T10:00:00Z' } } },
      now,
    );
    expect(formatClusterStatus(expired)).toContain(
      'leader: none (Lease hairpin/hairpin-dns-controller held by pod-b, renewed 2h ago: expired)\n',
    );
  });

  test('tenant text cannot forge lines or hide in terminal controls', () => {
    const hostile = buildClusterStatus(
      config,
      {
        ...seen,
        events: [
          {
            reason: 'HostnameRefused',
            message: 'evil\n\u001b[2Jfake.example.com  managed\u202e',
            involvedObject: { kind: 'Ingress', namespace: 'shop', name: 'x\ry' },
          },
        ],
      },
      now,
    );
    const text = formatClusterStatus(hostile);
    expect(text).not.toMatch(/^fake\.example\.com/m);
    expect([...text].every((c) => c === '\n' || (c >= ' ' && c <= '~'))).toBe(true);
    expect(text).toContain('evil\\u{a}\\u{1b}[2Jfake.example.com  managed\\u{202e}');
  });

  test('a Corefile without reload is flagged: CoreDNS applies the edit only on restart', () => {
    const noReload = applyCorefileHosts('.:53 {\n    errors\n}\n', ['a.example.com'], edit);
    const status = buildClusterStatus(
      config,
      {
        ...seen,
        published: { data: { hosts: 'a.example.com\n', relayIP: '10.96.0.50' } },
        targets: [
          { target: config.corefiles[0]!, role: 'corefile', configMap: cm('Corefile', noReload) },
        ],
      },
      now,
    );
    expect(status.configMaps.find((c) => c.name === 'coredns')).toMatchObject({
      state: 'ok',
      hosts: 1,
      withoutReload: true,
    });
    expect(formatClusterStatus(status)).toMatch(
      /^kube-system\/coredns +Corefile +corefile +1 +- +ok \(no reload plugin: edits apply when CoreDNS restarts\)$/m,
    );
    const withReload = buildClusterStatus(config, seen, now).configMaps;
    expect(withReload.find((c) => c.name === 'coredns')?.withoutReload).toBeUndefined();
  });

  test('no hosts at all says so', () => {
    const empty = buildClusterStatus(
      config,
      { ...seen, targets: [], published: undefined, events: [] },
      now,
    );
    expect(formatClusterStatus(empty)).toContain(
      'no hosts: no managed rule, no refused hostname\n',
    );
  });
});
