// The relay's metrics (names are a stable contract: docs/install.md, Metrics), registered
// on a registry passed in.
//
// The connection path only adds to plain numbers (per-route counters, bucket arrays);
// they become Prometheus series when /metrics is scraped. prom-client's inc/observe on
// every connection cost about 4.6 us and a closure per connection (7-8% of the CPU of a
// new connection); this costs nothing until a scrape.
import type { Registry } from 'prom-client';

export const RESULTS = [
  'ok',
  'rejected_limit',
  'no_upstream',
  'no_client_address',
  'accept_error',
  'upstream_refused',
  'upstream_timeout',
  'upstream_error',
  'client_error',
  'idle_timeout',
  'shutdown',
] as const;
export type ConnectionResult = (typeof RESULTS)[number];
/** Index of each result in RouteCounters.results. */
export const Result = Object.fromEntries(RESULTS.map((r, i) => [r, i])) as {
  readonly [K in ConnectionResult]: number;
};

/** Everything counted for one route, as plain numbers. */
export class RouteCounters {
  active = 0;
  bytesUp = 0;
  bytesDown = 0;
  readonly results = new Float64Array(RESULTS.length);
  readonly route: string;
  constructor(route: string) {
    this.route = route;
  }
}

/** A histogram as a bucket array: observe() is a few comparisons and additions. */
export class Buckets {
  readonly bounds: readonly number[];
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length);
  }
  observe(value: number): void {
    this.sum += value;
    this.count++;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (value <= b[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
}

export interface RelayMetrics {
  /** The counters of one route, created on first use and exported from then on. */
  route(name: string): RouteCounters;
  readonly upstreamConnect: Buckets;
  readonly duration: Buckets;
}

interface Sample {
  readonly metricName?: string;
  readonly labels: Record<string, string | number>;
  readonly value: number;
}

/**
 * A metric whose series are computed at scrape time. It has the shape prom-client's
 * Registry (and the cluster AggregatorRegistry, which sums workers' series) reads.
 */
class ScrapedMetric {
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  private readonly samples: () => Sample[];
  constructor(
    name: string,
    help: string,
    type: 'counter' | 'gauge' | 'histogram',
    samples: () => Sample[],
  ) {
    this.name = name;
    this.help = help;
    this.type = type;
    this.samples = samples;
  }
  get(): Promise<{
    name: string;
    help: string;
    type: string;
    values: Sample[];
    aggregator: string;
  }> {
    const { name, help, type, aggregator } = this;
    return Promise.resolve({ name, help, type, values: this.samples(), aggregator });
  }
  reset(): void {}
}

function histogramSamples(name: string, h: Buckets): Sample[] {
  const out: Sample[] = [];
  let cumulative = 0;
  for (let i = 0; i < h.bounds.length; i++) {
    cumulative += h.counts[i]!;
    out.push({ metricName: `${name}_bucket`, labels: { le: h.bounds[i]! }, value: cumulative });
  }
  out.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: h.count });
  out.push({ metricName: `${name}_sum`, labels: {}, value: h.sum });
  out.push({ metricName: `${name}_count`, labels: {}, value: h.count });
  return out;
}

export function createRelayMetrics(registry: Registry): RelayMetrics {
  const routes = new Map<string, RouteCounters>();
  const upstreamConnect = new Buckets([
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
  ]);
  const duration = new Buckets([0.005, 0.025, 0.1, 0.5, 1, 5, 30, 120, 600, 3600]);
  const perRoute = (f: (r: RouteCounters) => Sample[]) => (): Sample[] =>
    [...routes.values()].flatMap(f);
  const metrics = [
    new ScrapedMetric(
      'hairpin_relay_connections_total',
      'Connections accepted, by route and how they ended.',
      'counter',
      // Only results that happened, as a labelled prom-client counter would show.
      perRoute((r) =>
        RESULTS.flatMap((result, i) =>
          r.results[i] === 0 ? [] : [{ labels: { route: r.route, result }, value: r.results[i]! }],
        ),
      ),
    ),
    new ScrapedMetric(
      'hairpin_relay_active_connections',
      'Connections open now, by route.',
      'gauge',
      perRoute((r) => [{ labels: { route: r.route }, value: r.active }]),
    ),
    new ScrapedMetric(
      'hairpin_relay_bytes_total',
      'Payload bytes relayed (PROXY header excluded), by route and direction.',
      'counter',
      perRoute((r) => [
        { labels: { route: r.route, direction: 'client_to_upstream' }, value: r.bytesUp },
        { labels: { route: r.route, direction: 'upstream_to_client' }, value: r.bytesDown },
      ]),
    ),
    new ScrapedMetric(
      'hairpin_relay_upstream_connect_seconds',
      'Time to open the upstream connection.',
      'histogram',
      () => histogramSamples('hairpin_relay_upstream_connect_seconds', upstreamConnect),
    ),
    new ScrapedMetric(
      'hairpin_relay_connection_duration_seconds',
      'Lifetime of relayed connections.',
      'histogram',
      () => histogramSamples('hairpin_relay_connection_duration_seconds', duration),
    ),
  ];
  for (const m of metrics) registry.registerMetric(m as never);
  return {
    route(name) {
      let r = routes.get(name);
      if (r === undefined) {
        r = new RouteCounters(name);
        routes.set(name, r);
      }
      return r;
    },
    upstreamConnect,
    duration,
  };
}
