// A controller wired to the fake API server, as main wires it to a cluster.
import { readFileSync } from 'node:fs';
import { applyCorefileHosts, managedCorefileHosts } from '@hairpin/shared';
import { createLogger, silentLogger } from '@hairpin/shared/runtime';
import { corpusFile, FakeApiServer } from '@hairpin/testing';
import { Registry } from 'prom-client';
import { loadConfig } from '../src/config.ts';
import type { DnsController } from '../src/controller.ts';
import { runDnsController } from '../src/run.ts';

export const kubeadmCorefile = readFileSync(
  corpusFile('corefiles/kubeadm-latest.Corefile'),
  'utf8',
);
export const RELAY = 'hairpin-relay.hairpin.svc.cluster.local';
/** The relay Service's ClusterIP (relayService()): what managed names answer. */
export const RELAY_IP = '10.96.0.50';
/** How the controller edits a Corefile while the relay has RELAY_IP. */
export const EDIT = { target: RELAY, relayIPs: [RELAY_IP] } as const;
/** An earlier version's rule (migration and cleanup of what older releases wrote). */
export const rule = (h: string) => `rewrite name exact ${h} ${RELAY} # managed by hairpin`;
/** `corefile` as the controller writes it for `hosts` (the shared editor's own output). */
export const withHosts = (corefile: string, hosts: readonly string[]) =>
  applyCorefileHosts(corefile, hosts, EDIT);
/** The hosts a Corefile (or an import key's server block) sends to the relay. */
export const managedIn = (text: string | undefined): string[] =>
  text === undefined ? [] : managedCorefileHosts(text, EDIT);
/**
 * The managed `hosts` block for exact names, as the lines the editor writes at `indent`
 * (one entry line per relay address: few names), literally, so that a change of the
 * encoding shows in these tests too.
 */
export function hostsBlockLines(
  indent: string,
  names: readonly string[],
  ips: readonly string[] = [RELAY_IP],
): string[] {
  const M = '# managed by hairpin';
  return [
    `${indent}hosts /dev/null { ${M}`,
    ...ips.map((ip) => `${indent}    ${ip} ${names.join(' ')} ${M}`),
    `${indent}    ttl 30 ${M}`,
    `${indent}    no_reverse ${M}`,
    `${indent}    fallthrough ${M}`,
    `${indent}} ${M}`,
  ];
}

export function corednsConfigMap(corefile = kubeadmCorefile, name = 'coredns', key = 'Corefile') {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'kube-system' },
    data: { [key]: corefile },
  };
}

/** The relay Service; `clusterIPs` for dual-stack (the API server sets both fields). */
export function relayService(clusterIP = RELAY_IP, clusterIPs?: readonly string[]) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'hairpin-relay', namespace: 'hairpin' },
    spec: {
      clusterIP,
      ...(clusterIPs === undefined ? {} : { clusterIPs: [...clusterIPs] }),
      ports: [{ port: 80 }],
    },
  };
}

export function ingress(
  name: string,
  hosts: string[],
  extra: { namespace?: string; status?: unknown; className?: string } = {},
) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: extra.namespace ?? 'shop' },
    spec: {
      ...(extra.className ? { ingressClassName: extra.className } : {}),
      rules: hosts.map((host) => ({ host })),
    },
    ...(extra.status === undefined ? {} : { status: extra.status }),
  };
}

export { waitFor } from '@hairpin/testing';

export interface Harness {
  readonly fake: FakeApiServer;
  readonly registry: Registry;
  readonly controller: DnsController;
  corefile(name?: string, key?: string): string | undefined;
  /** The hosts that ConfigMap key sends to the relay (none: absent). */
  managed(name?: string, key?: string): string[];
  published(): Record<string, string> | undefined;
  puts(path: RegExp): number;
  metric(text: string): Promise<boolean>;
  /** The value of one exported series, e.g. `hairpin_dns_reconcile_total{result="error"}`. */
  value(series: string): Promise<number | undefined>;
  /** The log lines (JSON), when started with `logs: true`. */
  readonly logs: string[];
  stop(): Promise<void>;
}

export async function startHarness(
  args: string[] = [],
  options: {
    fake?: FakeApiServer;
    leading?: boolean;
    confirmEmptyMs?: number;
    logs?: boolean;
  } = {},
): Promise<Harness> {
  const fake = options.fake ?? (await FakeApiServer.start({ bookmarkIntervalMs: 200 }));
  const registry = new Registry();
  const config = loadConfig(
    ['--debounce', '10ms', '--discovery-interval', '1s', '--admin', '127.0.0.1:0', ...args],
    { POD_NAME: 'test' },
  );
  // The process's own wiring, without a Lease: the tests decide leadership.
  const logs: string[] = [];
  const running = await runDnsController(config, {
    kubeConfig: fake.kubeConfig(),
    log: options.logs
      ? createLogger({ level: 'debug' }, { write: (line: string) => void logs.push(line) })
      : process.env['HAIRPIN_TEST_LOG'] === '1'
        ? createLogger({ level: 'debug' })
        : silentLogger(),
    registry,
    leaderElection: false,
    confirmEmptyMs: options.confirmEmptyMs ?? 300,
  });
  const { controller } = running;
  if (options.leading !== false) controller.setLeading(true);
  return {
    fake,
    registry,
    controller,
    corefile: (name = 'coredns', key = 'Corefile') =>
      (
        fake.get('v1', 'ConfigMap', 'kube-system', name)?.['data'] as
          Record<string, string> | undefined
      )?.[key],
    managed: (name = 'coredns', key = 'Corefile') =>
      managedIn(
        (
          fake.get('v1', 'ConfigMap', 'kube-system', name)?.['data'] as
            Record<string, string> | undefined
        )?.[key],
      ),
    published: () =>
      fake.get('v1', 'ConfigMap', 'hairpin', 'hairpin-hosts')?.['data'] as
        Record<string, string> | undefined,
    puts: (path) => fake.requests.filter((r) => r.method === 'PUT' && path.test(r.path)).length,
    metric: async (text) => (await registry.metrics()).includes(text),
    value: async (series) => {
      const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    },
    logs,
    stop: async () => {
      await running.stop();
      if (options.fake === undefined) await fake.stop();
    },
  };
}
