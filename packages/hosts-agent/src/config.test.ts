import { ConfigError } from '@hairpin/shared';
import { expect, test } from 'vitest';
import { loadConfig } from './config.ts';

test('defaults, env twins, flags win', () => {
  expect(loadConfig([], {})).toEqual({
    namespace: 'hairpin',
    hostsFile: '/etc/hosts',
    admin: { host: '0.0.0.0', port: 9090 },
    resyncMs: 60_000,
    clusterDomain: 'cluster.local',
    nodeName: '',
    nodeHosts: 'auto',
    nodeHostSuffixes: [],
    maxLines: 100,
    logLevel: 'info',
  });
  expect(
    loadConfig(['--node-hosts', 'selected', '--max-lines', '20'], {
      NODE_HOST_SUFFIX: '*.Infra.example.com.',
    }),
  ).toMatchObject({ nodeHosts: 'selected', nodeHostSuffixes: ['infra.example.com'], maxLines: 20 });
  expect(() => loadConfig(['--node-hosts', 'some', '--max-lines', '0'], {})).toThrow(
    /--node-hosts must be one of auto, selected, all[\s\S]*--max-lines "0"/,
  );
  const c = loadConfig(['--hosts-file', '/host/etc/hosts'], {
    POD_NAMESPACE: 'edge',
    NODE_NAME: 'n1',
    HOSTS_FILE: '/x',
  });
  expect(c).toMatchObject({ namespace: 'edge', nodeName: 'n1', hostsFile: '/host/etc/hosts' });
  expect(Object.isFrozen(c)).toBe(true);
});

test('every problem at once', () => {
  let err: unknown;
  try {
    loadConfig(['--namespace', 'Bad_NS', '--resync-seconds', '0', '--admin', 'x', '--nope'], {});
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).problems).toHaveLength(4);
});

test('durations: --resync 30s, the older --resync-seconds; cluster domain from resolv.conf', () => {
  expect(loadConfig(['--resync', '30s'], {}).resyncMs).toBe(30_000);
  expect(loadConfig(['--resync-seconds', '5'], {}).resyncMs).toBe(5_000);
  expect(loadConfig([], { RESYNC: '2m' }).resyncMs).toBe(120_000);
  const resolv = () => 'search hairpin.svc.corp.local svc.corp.local corp.local\n';
  expect(loadConfig([], {}, { readResolvConf: resolv }).clusterDomain).toBe('corp.local');
  expect(
    loadConfig(['--cluster-domain', 'cluster.local'], {}, { readResolvConf: resolv }).clusterDomain,
  ).toBe('cluster.local');
});
