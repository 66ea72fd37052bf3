// The plan within capacity: which of the decided hosts are written (capacity.ts chooses,
// by running the plan's real edits and measuring each ConfigMap as the API server does),
// and what hairpin-hosts carries besides them: the hosts meant for nodes, and, while DNS
// is full, the hosts left out. Pure, like plan.ts.
import { NODE_HOSTS_ANNOTATION, type ObjectRef, type PublishedHosts } from '@hairpin/shared';
import {
  chooseServed,
  CONFIGMAP_MAX_BYTES,
  configMapSize,
  servingOrder,
  type CreatedAt,
} from './capacity.ts';
import type { DesiredHosts } from './desired-hosts.ts';
import type { ConfigMapWrite } from './plan.ts';

/** What hairpin-hosts holds besides the served hosts and the relay IP. */
export type PublishedExtras = Pick<PublishedHosts, 'nodeHosts' | 'notServed' | 'notServedCount'>;

interface PlannedWrites {
  readonly writes: readonly ConfigMapWrite[];
  readonly refused: readonly unknown[];
  readonly waiting: readonly string[];
}

/** Room kept in hairpin-hosts beside the hosts lists: the relay IP(s), the count. */
const NOT_SERVED_MARGIN_BYTES = 256;

type Meta = {
  metadata?: {
    namespace?: string;
    name?: string;
    creationTimestamp?: unknown;
    annotations?: Record<string, string | undefined>;
  };
};

const refKey = (kind: string, namespace: string, name: string) => `${kind}/${namespace}/${name}`;

/**
 * The source objects' creation times (read only when over capacity) and node-host
 * annotations, by kind/namespace/name.
 */
function indexSources(snapshot: {
  readonly ingresses: readonly unknown[];
  readonly gateways: readonly unknown[];
  readonly routes: readonly unknown[];
}): { createdAt: CreatedAt; forNodes: (ref: ObjectRef) => boolean; anyForNodes: boolean } {
  const lists = [
    ['Ingress', snapshot.ingresses],
    ['Gateway', snapshot.gateways],
    ['HTTPRoute', snapshot.routes],
  ] as const;
  const nodes = new Set<string>();
  for (const [kind, list] of lists) {
    for (const o of list) {
      const m = (o as Meta).metadata;
      if (m?.annotations?.[NODE_HOSTS_ANNOTATION] === 'true') {
        nodes.add(refKey(kind, m.namespace ?? '', m.name ?? ''));
      }
    }
  }
  let created: Map<string, string> | undefined;
  const creationTimes = (): Map<string, string> => {
    if (created !== undefined) return created;
    created = new Map();
    for (const [kind, list] of lists) {
      for (const o of list) {
        const m = (o as Meta).metadata;
        const t = m?.creationTimestamp;
        const at = t instanceof Date ? t : typeof t === 'string' ? new Date(t) : undefined;
        if (at !== undefined && !Number.isNaN(at.getTime())) {
          created.set(refKey(kind, m?.namespace ?? '', m?.name ?? ''), at.toISOString());
        }
      }
    }
    return created;
  };
  return {
    createdAt: (ref) => creationTimes().get(refKey(ref.kind, ref.namespace, ref.name)),
    forNodes: (ref) => nodes.has(refKey(ref.kind, ref.namespace, ref.name)),
    anyForNodes: nodes.size > 0,
  };
}

/**
 * The writes for the longest prefix of the serving order whose every edited ConfigMap
 * fits in CONFIGMAP_MAX_BYTES. `plan(hosts, published)` is the plan's own writes for those
 * hosts. When everything fits, `plan` runs once; otherwise about log2(n) + 2 times.
 */
export function planWithinCapacity<P extends PlannedWrites>(
  snapshot: {
    readonly ingresses: readonly unknown[];
    readonly gateways: readonly unknown[];
    readonly routes: readonly unknown[];
  },
  decision: Pick<DesiredHosts, 'hosts' | 'accepted'>,
  plan: (hosts: readonly string[], published: PublishedExtras) => P,
): P & { readonly served: readonly string[]; readonly notServed: readonly string[] } {
  const sources = indexSources(snapshot);
  const nodeHostSet = new Set<string>();
  if (sources.anyForNodes) {
    for (const c of decision.accepted) if (sources.forNodes(c.ref)) nodeHostSet.add(c.host);
  }
  const extras = (hosts: readonly string[]): PublishedExtras =>
    sources.anyForNodes ? { nodeHosts: hosts.filter((h) => nodeHostSet.has(h)) } : {};

  const withinLimit = (p: P): boolean =>
    p.writes.every((w) => configMapSize(w.data) <= CONFIGMAP_MAX_BYTES);
  // The common case first: everything fits, one plan, and no ordering needed.
  const whole = plan(decision.hosts, extras(decision.hosts));
  if (withinLimit(whole)) return { ...whole, served: decision.hosts, notServed: [] };
  const order = servingOrder(decision.accepted, sources.createdAt);
  // Every host was just found not to fit: the search does not plan them all again.
  const choice = chooseServed(order, (hosts) => withinLimit(plan(hosts, extras(hosts))), false);
  const served = choice.served;
  // hairpin-hosts also lists the hosts left out (for `status`), in the room left there.
  const published = extras(served);
  const bytes = (hosts: readonly string[] | undefined) =>
    (hosts ?? []).reduce((n, h) => n + Buffer.byteLength(h) + 1, 0);
  const room =
    CONFIGMAP_MAX_BYTES - bytes(served) - bytes(published.nodeHosts) - NOT_SERVED_MARGIN_BYTES;
  const listed: string[] = [];
  let used = 0;
  for (const h of choice.notServed) {
    used += Buffer.byteLength(h) + 1;
    if (used > room) break;
    listed.push(h);
  }
  const result = plan(served, {
    ...published,
    notServed: listed,
    notServedCount: choice.notServed.length,
  });
  return { ...result, served, notServed: choice.notServed };
}
