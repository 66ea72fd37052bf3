// The hosts agent's metrics (names are a stable contract: docs/install.md, Metrics).
import { Counter, Gauge, type Registry } from 'prom-client';

export interface AgentMetrics {
  /** result: written (the file changed), error (it could not be read or written, or the published data was invalid). */
  readonly writes: Counter<'result'>;
  readonly managedHosts: Gauge;
}

export function createAgentMetrics(registry: Registry): AgentMetrics {
  return {
    writes: new Counter({
      name: 'hairpin_hosts_agent_writes_total',
      help: 'Hosts-file updates, by result.',
      labelNames: ['result'],
      registers: [registry],
    }),
    managedHosts: new Gauge({
      name: 'hairpin_hosts_agent_managed_hosts',
      help: "Hostnames on the managed lines of this node's hosts file.",
      registers: [registry],
    }),
  };
}
