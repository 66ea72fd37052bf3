// The status report served as JSON at /status on the admin port: one place that answers
// "is my host handled, and if not why". A pure function of the controller's decision
// (desired-hosts.ts), the ConfigMap writes it recorded and its leadership.
import type { ObjectRef, SourcedHost } from '@hairpin/shared';
import { apiStatus, describeApiError } from '@hairpin/shared/runtime';
import type { DesiredHosts } from './desired-hosts.ts';

/**
 * managed: in the decided host set (rewritten in the Corefile, published to the agents);
 * not_served: decided, but left out because DNS is full (`reason: capacity`);
 * rejected: refused by the hostname policy; skipped: its load balancer reports
 * `ipMode: Proxy` (KEP-1860), no hairpin needed; filtered: its ingress / gateway class is
 * not selected.
 */
export type HostState = 'managed' | 'not_served' | 'rejected' | 'skipped' | 'filtered';

export interface SourceObject {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export interface HostStatus {
  /** Normalised for managed hosts; as written on the object otherwise. */
  readonly host: string;
  readonly state: HostState;
  /** rejected: the refusal code; skipped: `ipmode_proxy`; filtered: `ingress_class` or `gateway_class`. */
  readonly reason?: string;
  readonly message?: string;
  readonly sources: readonly SourceObject[];
}

export type WriteResult = 'written' | 'unchanged' | 'failed' | 'waiting';

export interface ConfigMapWrite {
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
  /** When this replica last changed it (ISO 8601), null if never. */
  readonly lastWriteTime: string | null;
  /** The last reconcile's outcome for it, and when. */
  readonly lastResult: WriteResult;
  readonly lastResultTime: string;
  readonly error?: string;
  /**
   * A Corefile target: whether it has the `reload` plugin (`no`: CoreDNS applies edits
   * only when it restarts; `unknown`: it imports files hairpin cannot read).
   */
  readonly reload?: 'yes' | 'no' | 'unknown';
}

export interface StatusReport {
  readonly identity: string;
  readonly leader: boolean;
  /** false until every watch has listed once: the host list may be incomplete. */
  readonly synced: boolean;
  readonly generatedAt: string;
  readonly hosts: readonly HostStatus[];
  readonly configMaps: readonly ConfigMapWrite[];
}

const STATE_ORDER: readonly HostState[] = [
  'managed',
  'not_served',
  'rejected',
  'skipped',
  'filtered',
];

/** The /status message of a host left out for capacity. */
export const NOT_SERVED_MESSAGE =
  "DNS is full: the CoreDNS ConfigMap would exceed the API server's 1 MiB limit; the hosts of the oldest objects are served first";

export function sourceOf(ref: ObjectRef): SourceObject {
  return { kind: ref.kind, namespace: ref.namespace, name: ref.name };
}

/** Hosts sorted by name then state; one row per host and state, its objects merged. */
export function buildStatus(input: {
  readonly identity: string;
  readonly leader: boolean;
  readonly synced: boolean;
  readonly decision: DesiredHosts;
  /** Hosts the last reconcile left out for capacity. */
  readonly notServed?: ReadonlySet<string>;
  readonly writes: readonly ConfigMapWrite[];
  /** By namespace/name: what each target Corefile said about `reload` when last read. */
  readonly reloads?: ReadonlyMap<string, NonNullable<ConfigMapWrite['reload']>>;
  readonly now: Date;
}): StatusReport {
  const rows = new Map<string, HostStatus & { sources: SourceObject[] }>();
  const add = (row: Omit<HostStatus, 'sources'>, ref: ObjectRef): void => {
    const key = `${row.state}\n${row.reason ?? ''}\n${row.host}`;
    let entry = rows.get(key);
    if (entry === undefined) rows.set(key, (entry = { ...row, sources: [] }));
    const source = sourceOf(ref);
    if (
      !entry.sources.some(
        (s) => s.kind === source.kind && s.namespace === source.namespace && s.name === source.name,
      )
    ) {
      entry.sources.push(source);
    }
  };
  const { decision } = input;
  const notServed = input.notServed ?? new Set<string>();
  for (const c of decision.accepted) {
    add(
      notServed.has(c.host)
        ? { host: c.host, state: 'not_served', reason: 'capacity', message: NOT_SERVED_MESSAGE }
        : { host: c.host, state: 'managed' },
      c.ref,
    );
  }
  for (const r of decision.rejected) {
    add({ host: r.host, state: 'rejected', reason: r.reason, message: r.message }, r.ref);
  }
  for (const s of decision.proxyMode) {
    for (const host of s.hosts) {
      add(
        {
          host,
          state: 'skipped',
          reason: 'ipmode_proxy',
          message: 'its load balancer reports ipMode: Proxy (KEP-1860): no hairpin needed',
        },
        s.ref,
      );
    }
  }
  for (const c of decision.classFiltered) add(filteredRow(c), c.ref);

  const hosts = [...rows.values()].sort(
    (a, b) =>
      compare(a.host, b.host) ||
      STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state) ||
      compare(a.reason ?? '', b.reason ?? ''),
  );
  for (const h of hosts) h.sources.sort((a, b) => compare(sourceKey(a), sourceKey(b)));
  return {
    identity: input.identity,
    leader: input.leader,
    synced: input.synced,
    generatedAt: input.now.toISOString(),
    hosts,
    configMaps: [...input.writes]
      .map((w) => {
        const reload = input.reloads?.get(`${w.namespace}/${w.name}`);
        return reload === undefined ? w : { ...w, reload };
      })
      .sort((a, b) => compare(writeKey(a), writeKey(b))),
  };
}

function filteredRow(c: SourcedHost): Omit<HostStatus, 'sources'> {
  return c.ref.kind === 'Ingress'
    ? {
        host: c.host,
        state: 'filtered',
        reason: 'ingress_class',
        message: 'its ingress class is not one of --ingress-class',
      }
    : {
        host: c.host,
        state: 'filtered',
        reason: 'gateway_class',
        message: 'its Gateway class is not one of --gateway-class',
      };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sourceKey(s: SourceObject): string {
  return `${s.kind}/${s.namespace}/${s.name}`;
}

function writeKey(w: { namespace: string; name: string; key: string }): string {
  return `${w.namespace}/${w.name}:${w.key}`;
}

type ConfigMapKey = { readonly namespace: string; readonly name: string; readonly key: string };

/** What the controller's writes record: the latest outcome per ConfigMap key. */
export class ConfigMapWriteLog {
  private readonly entries = new Map<string, ConfigMapWrite>();

  private readonly now: () => Date;

  constructor(now: () => Date = () => new Date()) {
    this.now = now;
  }

  record(target: ConfigMapKey, result: WriteResult, error?: unknown): void {
    const key = writeKey(target);
    const at = this.now().toISOString();
    const before = this.entries.get(key);
    this.entries.set(key, {
      namespace: target.namespace,
      name: target.name,
      key: target.key,
      lastWriteTime: result === 'written' ? at : (before?.lastWriteTime ?? null),
      lastResult: result,
      lastResultTime: at,
      ...(error === undefined ? {} : { error: describeError(error) }),
    });
  }

  /**
   * One reconcile pass: what it did to the targets it wrote or refused; every other
   * target is unchanged, or waiting when its ConfigMap is not there.
   */
  recordPass(
    targets: readonly { readonly target: ConfigMapKey; readonly present: boolean }[],
    touched: readonly {
      readonly target: ConfigMapKey;
      readonly result: WriteResult;
      readonly error?: unknown;
    }[],
  ): void {
    const done = new Set<string>();
    for (const t of touched) {
      this.record(t.target, t.result, t.error);
      done.add(writeKey(t.target));
    }
    for (const { target, present } of targets) {
      if (done.has(writeKey(target))) continue;
      if (present) this.record(target, 'unchanged');
      else this.record(target, 'waiting', 'ConfigMap not found');
    }
  }

  list(): ConfigMapWrite[] {
    return [...this.entries.values()];
  }
}

/**
 * One line for an error, for a report or a terminal: an API error as describeApiError
 * gives it (never client-node's dump of headers and body), anything else with its cause.
 */
export function describeError(err: unknown): string {
  if (apiStatus(err) !== undefined) return oneLine(describeApiError(err));
  if (typeof err !== 'object' || err === null) return oneLine(String(err));
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  const text =
    typeof e.code === 'string' && !message.includes(e.code) ? `${e.code}: ${message}` : message;
  // fetch's "fetch failed" says why only in its cause (ECONNREFUSED, a TLS error, ...).
  const cause = (err as { cause?: unknown }).cause;
  return oneLine(cause === undefined || cause === err ? text : `${text}: ${describeError(cause)}`);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 1024);
}
