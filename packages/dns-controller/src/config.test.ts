import { expect, test } from 'vitest';
import { clusterDomainFromResolvConf } from '@hairpin/shared';
import { loadConfig, parseTarget } from './config.ts';

test('defaults: kube-system/coredns, relay FQDN from namespace and cluster domain', () => {
  const c = loadConfig(
    [],
    { POD_NAMESPACE: 'edge' },
    {
      readResolvConf: () =>
        'search edge.svc.corp.local svc.corp.local corp.local\nnameserver 10.96.0.10\n',
    },
  );
  expect(c.relayFqdn).toBe('hairpin-relay.edge.svc.corp.local');
  expect(c.corefiles).toEqual([{ namespace: 'kube-system', name: 'coredns', key: 'Corefile' }]);
  expect(c.importTarget).toBeUndefined();
  expect(c.sources).toEqual(['tls', 'rules']);
  expect(Object.isFrozen(c)).toBe(true);
});

test('import mode alone leaves the Corefile alone', () => {
  const c = loadConfig(['--import-configmap', 'kube-system/coredns-custom'], {});
  expect(c.corefiles).toEqual([]);
  expect(c.importTarget).toEqual({
    namespace: 'kube-system',
    name: 'coredns-custom',
    key: 'hairpin.override',
  });
  expect(
    loadConfig(['--import-configmap', 'kube-system/coredns-custom:10-hairpin.override'], {})
      .importTarget?.key,
  ).toBe('10-hairpin.override');
});

test('import mode refuses a key that is not *.override', () => {
  for (const key of ['hairpin.server', 'hairpin', 'hairpin.override.bak']) {
    expect(() =>
      loadConfig(['--import-configmap', `kube-system/coredns-custom:${key}`], {}),
    ).toThrow(
      new RegExp(`--import-configmap: key ${key.replaceAll('.', '\\.')} must end in \\.override`),
    );
  }
});

test('helpers', () => {
  expect(
    clusterDomainFromResolvConf('search default.svc.cluster.local svc.cluster.local cluster.local'),
  ).toBe('cluster.local');
  expect(clusterDomainFromResolvConf('nameserver 1.1.1.1')).toBeUndefined();
  expect(parseTarget('kube-system/rke2-coredns-rke2-coredns', 'Corefile')).toEqual({
    namespace: 'kube-system',
    name: 'rke2-coredns-rke2-coredns',
    key: 'Corefile',
  });
  expect(typeof parseTarget('a/b:c d', 'Corefile')).toBe('string');
});

test('durations with units; the older unit-suffixed flags and plural env names still work', () => {
  expect(loadConfig(['--debounce', '250ms', '--discovery-interval', '2m'], {})).toMatchObject({
    debounceMs: 250,
    discoveryIntervalMs: 120_000,
  });
  expect(
    loadConfig(['--debounce-ms', '10', '--discovery-interval-seconds', '5'], {}),
  ).toMatchObject({ debounceMs: 10, discoveryIntervalMs: 5_000 });
  expect(loadConfig([], { DEBOUNCE: '1s', DISCOVERY_INTERVAL_SECONDS: '30' })).toMatchObject({
    debounceMs: 1_000,
    discoveryIntervalMs: 30_000,
  });
  const c = loadConfig([], {
    COREDNS_CONFIGMAPS: 'kube-system/a,kube-system/b',
    INGRESS_CLASS: 'nginx',
    GATEWAY_CLASSES: 'cilium',
  });
  expect(c.corefiles.map((t) => t.name)).toEqual(['a', 'b']);
  expect(c.ingressClasses).toEqual(['nginx']);
  expect(c.gatewayClasses).toEqual(['cilium']);
  expect(() => loadConfig(['--debounce', '5 minutes', '--discovery-interval', '0s'], {})).toThrow(
    /--debounce "5 minutes"[\s\S]*--discovery-interval "0s"/,
  );
});
