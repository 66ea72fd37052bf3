// The pure half of the controller: from the objects in the caches to the host set.
import {
  classFilteredHosts,
  decideHosts,
  hostsFromGatewayApi,
  hostsFromIngress,
  refOf,
  type HostCandidate,
  type HostDecision,
  type HostnamePolicy,
  type HostRejection,
  type ObjectRef,
  type SourcedHost,
  type SourceFilter,
} from '@hairpin/shared';

export interface DesiredHosts extends HostDecision {
  /** Ingresses left out because their load balancer reports ipMode: Proxy (KEP-1860). */
  readonly proxyMode: readonly { readonly ref: ObjectRef; readonly hosts: readonly string[] }[];
  /** Candidates only the ingress / gateway class filter keeps out (reported, never managed). */
  readonly classFiltered: readonly SourcedHost[];
}

type Obj = { metadata?: { namespace?: string; name?: string }; spec?: unknown; status?: unknown };

function lbIngress(status: unknown): { ip?: unknown; hostname?: unknown; ipMode?: unknown }[] {
  const list = (status as { loadBalancer?: { ingress?: unknown } } | undefined)?.loadBalancer
    ?.ingress;
  return Array.isArray(list)
    ? (list as { ip?: unknown; hostname?: unknown; ipMode?: unknown }[])
    : [];
}

/**
 * KEP-1860: an Ingress needs no hairpin when every address in its status belongs to a
 * LoadBalancer Service that reports `ipMode: Proxy`: kube-proxy then does not
 * short-circuit that IP, traffic goes through the load balancer and gets its header.
 * (The Ingress status has no ipMode of its own; the Service's status does.)
 */
export function proxyModeIPs(services: readonly unknown[]): Set<string> {
  const proxy = new Set<string>();
  for (const svc of services) {
    for (const entry of lbIngress((svc as Obj).status)) {
      if (typeof entry.ip === 'string' && entry.ipMode === 'Proxy') proxy.add(entry.ip);
    }
  }
  return proxy;
}

export function ingressNeedsNoHairpin(ingress: unknown, proxyIPs: ReadonlySet<string>): boolean {
  const entries = lbIngress((ingress as Obj).status);
  return entries.length > 0 && entries.every((e) => typeof e.ip === 'string' && proxyIPs.has(e.ip));
}

/** What one Ingress gives, whatever the other objects: its candidates, decided. */
interface IngressHosts {
  readonly found: readonly HostCandidate[];
  readonly accepted: readonly SourcedHost[];
  /** The hosts of `accepted`, as one list for HostCounts. */
  readonly acceptedHosts: readonly string[];
  readonly rejected: readonly HostRejection[];
  readonly classFiltered: readonly SourcedHost[];
}

/**
 * Each Ingress's hosts, computed once per version of the object. The caches never change
 * an object in place: a watch event or a re-list replaces it, so the object itself is the
 * key, and an entry goes with its object. At 20,000 hosts, checking every host of every
 * Ingress on every reconcile was most of a reconcile's CPU (issue 19); now only the
 * objects that changed are checked, and the host list is kept up to date from them
 * (HostCounts) instead of being collected and sorted again. The result is exactly that of
 * the uncached path. The controller keeps one; decisions without one check every object.
 */
export class IngressHostsMemo {
  private readonly byObject = new WeakMap<
    object,
    { readonly key: string; readonly hosts: IngressHosts }
  >();
  readonly counts = new HostCounts();

  /** `key`: what the result depends on besides the object (the filter and the policy). */
  hosts(ingress: unknown, key: string, compute: () => IngressHosts): IngressHosts {
    if (typeof ingress !== 'object' || ingress === null) return compute();
    const cached = this.byObject.get(ingress);
    if (cached !== undefined && cached.key === key) return cached.hosts;
    const hosts = compute();
    this.byObject.set(ingress, { key, hosts });
    return hosts;
  }
}

/**
 * The sorted, unique hosts that a set of sources gives, kept from one decision to the
 * next: each source's hosts are a list that stays the same object while the source does
 * not change, so a decision where a few Ingresses changed counts only their hosts in or
 * out, and merges the hosts that came into the last sorted list. At 20,000 hosts,
 * collecting every host into a set and sorting it was most of a decision's CPU.
 */
export class HostCounts {
  /** How many of the sources' lists hold each host (none: absent). */
  private readonly counts = new Map<string, number>();
  /** Each source's list, as last counted. */
  private readonly lists = new Map<unknown, readonly string[]>();
  private sorted: readonly string[] = [];

  /** The hosts of `sources` (each source's list of hosts), sorted and unique. */
  update(sources: ReadonlyMap<unknown, readonly string[]>): readonly string[] {
    // Each host whose count changed, and whether it was there before.
    const touched = new Map<string, boolean>();
    const count = (hosts: readonly string[], by: number) => {
      for (let i = 0; i < hosts.length; i++) {
        const host = hosts[i]!;
        const before = this.counts.get(host) ?? 0;
        if (!touched.has(host)) touched.set(host, before > 0);
        if (before + by === 0) this.counts.delete(host);
        else this.counts.set(host, before + by);
      }
    };
    this.lists.forEach((hosts, source) => {
      if (sources.get(source) === hosts) return;
      count(hosts, -1);
      this.lists.delete(source);
    });
    sources.forEach((hosts, source) => {
      if (this.lists.has(source)) return;
      count(hosts, +1);
      this.lists.set(source, hosts);
    });
    const added: string[] = [];
    const removed = new Set<string>();
    touched.forEach((was, host) => {
      const is = this.counts.has(host);
      if (is && !was) added.push(host);
      else if (was && !is) removed.add(host);
    });
    if (added.length === 0 && removed.size === 0) return this.sorted;
    added.sort();
    const merged: string[] = [];
    let a = 0;
    for (let i = 0; i < this.sorted.length; i++) {
      const h = this.sorted[i]!;
      if (removed.has(h)) continue;
      while (a < added.length && added[a]! < h) merged.push(added[a++]!);
      merged.push(h);
    }
    while (a < added.length) merged.push(added[a++]!);
    this.sorted = merged;
    return merged;
  }
}

function ingressHosts(
  ingress: unknown,
  filter: SourceFilter,
  policy: HostnamePolicy,
): IngressHosts {
  const found = hostsFromIngress(ingress, filter);
  const { accepted, rejected } = decideHosts(found, policy);
  const classFiltered = classFilteredHosts(
    { ingresses: [ingress], gateways: [], routes: [] },
    filter,
  );
  return { found, accepted, acceptedHosts: accepted.map((a) => a.host), rejected, classFiltered };
}

/** The Gateway API's hosts, as one source of HostCounts (decided anew each time). */
const GATEWAY_API = Symbol('Gateway API');

// Loops over every host are indexed: run once per reconcile, these functions are not
// optimized, and there `for...of` allocates an iterator result per element (at 20,000
// hosts, garbage for the collector on every reconcile).
function append<T>(to: T[], items: readonly T[]): void {
  for (let i = 0; i < items.length; i++) to.push(items[i]!);
}

export function desiredHosts(input: {
  readonly ingresses: readonly unknown[];
  readonly gateways: readonly unknown[];
  readonly routes: readonly unknown[];
  readonly services: readonly unknown[];
  readonly filter: SourceFilter;
  readonly policy: HostnamePolicy;
  readonly memo?: IngressHostsMemo | undefined;
}): DesiredHosts {
  const { filter, policy, memo } = input;
  const key = memo === undefined ? '' : JSON.stringify([filter, policy]);
  const proxyIPs = proxyModeIPs(input.services);
  const accepted: SourcedHost[] = [];
  const rejected: HostRejection[] = [];
  const classFiltered: SourcedHost[] = [];
  const proxyMode: { ref: ObjectRef; hosts: string[] }[] = [];
  // Each source's host list (an Ingress's, unchanged while the object is; the Gateway API's).
  const sources = new Map<unknown, readonly string[]>();
  for (const ingress of input.ingresses) {
    const compute = () => ingressHosts(ingress, filter, policy);
    const found = memo === undefined ? compute() : memo.hosts(ingress, key, compute);
    append(classFiltered, found.classFiltered);
    if (found.found.length > 0 && ingressNeedsNoHairpin(ingress, proxyIPs)) {
      proxyMode.push({
        ref: refOf(ingress, 'networking.k8s.io/v1', 'Ingress')!,
        hosts: found.found.flatMap((c) => (typeof c.host === 'string' ? [c.host] : [])),
      });
      continue;
    }
    append(accepted, found.accepted);
    append(rejected, found.rejected);
    // Not an object (never from the caches): a key of its own, counted anew each time.
    sources.set(
      typeof ingress === 'object' && ingress !== null ? ingress : {},
      found.acceptedHosts,
    );
  }
  // Gateways and routes depend on each other (a route counts once attached): not cached.
  const gatewayApi = decideHosts(hostsFromGatewayApi(input.gateways, input.routes, filter), policy);
  append(accepted, gatewayApi.accepted);
  append(rejected, gatewayApi.rejected);
  append(
    classFiltered,
    classFilteredHosts({ ingresses: [], gateways: input.gateways, routes: input.routes }, filter),
  );
  sources.set(GATEWAY_API, gatewayApi.hosts);
  const counts = memo?.counts ?? new HostCounts();
  return { hosts: counts.update(sources), accepted, rejected, proxyMode, classFiltered };
}
