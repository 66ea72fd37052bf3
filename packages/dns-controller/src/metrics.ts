// The dns-controller's metrics (names are a stable contract: docs/install.md, Metrics), shaped like
// controller-runtime's reconcile metrics.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Every value of hairpin_dns_reconcile_total{result}, each exported from start at 0 so
 * that increase(...{result="error"}) sees the first error. */
export const RECONCILE_RESULTS = ['success', 'error', 'conflict', 'skipped'] as const;

export interface ControllerMetrics {
  /**
   * result: success (every target in line), error (a write failed, or a Corefile cannot be
   * edited), conflict (a 409, re-read and retried), skipped (the leader's caches are not
   * synced yet, or an empty host set is not trusted yet). A replica that is not the leader
   * does not reconcile and counts nothing.
   */
  readonly reconciles: Counter<'result'>;
  readonly reconcileSeconds: Histogram;
  /** Main-thread CPU of one reconcile (process.threadCpuUsage: garbage collection on it too). */
  readonly reconcileCpuSeconds: Histogram;
  readonly managedHosts: Gauge;
  /** Hosts decided but not served because the ConfigMap would exceed 1 MiB (capacity). */
  readonly notServedHosts: Gauge;
  readonly corefileWithoutReload: Gauge;
  readonly rejectedHosts: Counter<'reason'>;
  /** Hosts left out because their load balancer reports ipMode: Proxy (KEP-1860). */
  readonly proxyModeSkipped: Counter;
}

export function createControllerMetrics(registry: Registry): ControllerMetrics {
  const registers = [registry];
  const reconciles = new Counter({
    name: 'hairpin_dns_reconcile_total',
    help: 'Reconciles, by result.',
    labelNames: ['result'],
    registers,
  });
  for (const result of RECONCILE_RESULTS) reconciles.inc({ result }, 0);
  return {
    reconciles,
    reconcileSeconds: new Histogram({
      name: 'hairpin_dns_reconcile_seconds',
      help: 'Time one reconcile took.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    reconcileCpuSeconds: new Histogram({
      name: 'hairpin_dns_reconcile_cpu_seconds',
      help: 'Main-thread CPU time one reconcile took (with what the thread did while it waited on the API server).',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    managedHosts: new Gauge({
      name: 'hairpin_dns_managed_hosts',
      help: 'Hostnames hairpinned now (served in DNS and published to the hosts agents).',
      registers,
    }),
    notServedHosts: new Gauge({
      name: 'hairpin_dns_not_served_hosts',
      help: 'Hostnames decided but not served: the CoreDNS ConfigMap would exceed 1 MiB (capacity).',
      registers,
    }),
    corefileWithoutReload: new Gauge({
      name: 'hairpin_dns_corefile_without_reload',
      help: 'Target Corefiles without the reload plugin (1): CoreDNS applies edits only when it restarts.',
      labelNames: ['configmap'],
      registers,
    }),
    rejectedHosts: new Counter({
      name: 'hairpin_dns_rejected_hosts_total',
      help: 'Hostnames refused by the hostname policy, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    proxyModeSkipped: new Counter({
      name: 'hairpin_dns_proxy_mode_skipped_hosts_total',
      help: 'Hostnames not hairpinned because their load balancer reports ipMode Proxy (KEP-1860).',
      registers,
    }),
  };
}

/** Leader election (leader-election.ts). */
export interface LeaderElectionMetrics {
  /** 1 while this replica holds the Lease, else 0. */
  readonly leader: Gauge;
  /** Failed reads or writes of the Lease (a lost race, 409, is not one). */
  readonly errors: Counter;
}

export function createLeaderElectionMetrics(registry: Registry): LeaderElectionMetrics {
  const registers = [registry];
  return {
    leader: new Gauge({
      name: 'hairpin_dns_leader',
      help: '1 while this replica holds the leader Lease, else 0.',
      registers,
    }),
    errors: new Counter({
      name: 'hairpin_dns_leader_election_errors_total',
      help: 'Failed reads or writes of the leader Lease (a lost race aside).',
      registers,
    }),
  };
}
