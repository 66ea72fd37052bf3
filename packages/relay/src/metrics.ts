// The relay's metrics (names are a stable contract: docs/install.md, Metrics), registered on a registry passed in.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type ConnectionResult =
  | 'ok'
  | 'rejected_limit'
  | 'no_upstream'
  | 'upstream_refused'
  | 'upstream_timeout'
  | 'upstream_error'
  | 'client_error'
  | 'idle_timeout'
  | 'shutdown';

export interface RelayMetrics {
  readonly connections: Counter<'route' | 'result'>;
  readonly active: Gauge<'route'>;
  readonly bytes: Counter<'route' | 'direction'>;
  readonly upstreamConnect: Histogram;
  readonly duration: Histogram;
}

export function createRelayMetrics(registry: Registry): RelayMetrics {
  const registers = [registry];
  return {
    connections: new Counter({
      name: 'hairpin_relay_connections_total',
      help: 'Connections accepted, by route and how they ended.',
      labelNames: ['route', 'result'],
      registers,
    }),
    active: new Gauge({
      name: 'hairpin_relay_active_connections',
      help: 'Connections open now, by route.',
      labelNames: ['route'],
      registers,
    }),
    bytes: new Counter({
      name: 'hairpin_relay_bytes_total',
      help: 'Payload bytes relayed (PROXY header excluded), by route and direction.',
      labelNames: ['route', 'direction'],
      registers,
    }),
    upstreamConnect: new Histogram({
      name: 'hairpin_relay_upstream_connect_seconds',
      help: 'Time to open the upstream connection.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    duration: new Histogram({
      name: 'hairpin_relay_connection_duration_seconds',
      help: 'Lifetime of relayed connections.',
      buckets: [0.005, 0.025, 0.1, 0.5, 1, 5, 30, 120, 600, 3600],
      registers,
    }),
  };
}
