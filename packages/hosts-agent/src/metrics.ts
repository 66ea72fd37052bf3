// The hosts agent's metrics (names are a stable contract: docs/install.md, Metrics).
import { Counter, Gauge, type Registry } from 'prom-client';

export interface AgentMetrics {
  /** result: written (the file changed), error (it could not be read or written, or the published data was invalid). */
  readonly writes: Counter<'result'>;
  readonly managedHosts: Gauge;
  /** Hosts selected for this node but not written: the file reached --max-lines. */
  readonly droppedHosts: Gauge;
}

/** Every value of hairpin_hosts_agent_writes_total{result}, exported from start at 0. */
export const WRITE_RESULTS = ['written', 'error'] as const;

export function createAgentMetrics(registry: Registry): AgentMetrics {
  const writes = new Counter({
    name: 'hairpin_hosts_agent_writes_total',
    help: 'Hosts-file updates, by result.',
    labelNames: ['result'],
    registers: [registry],
  });
  for (const result of WRITE_RESULTS) writes.inc({ result }, 0);
  return {
    writes,
    managedHosts: new Gauge({
      name: 'hairpin_hosts_agent_managed_hosts',
      help: "Hostnames on the managed lines of this node's hosts file.",
      registers: [registry],
    }),
    droppedHosts: new Gauge({
      name: 'hairpin_hosts_agent_not_written_hosts',
      help: 'Hostnames selected for this node but not written: the hosts file reached --max-lines.',
      registers: [registry],
    }),
  };
}
