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

export function desiredHosts(input: {
  readonly ingresses: readonly unknown[];
  readonly gateways: readonly unknown[];
  readonly routes: readonly unknown[];
  readonly services: readonly unknown[];
  readonly filter: SourceFilter;
  readonly policy: HostnamePolicy;
}): DesiredHosts {
  const proxyIPs = proxyModeIPs(input.services);
  const candidates: HostCandidate[] = [];
  const proxyMode: { ref: ObjectRef; hosts: string[] }[] = [];
  for (const ingress of input.ingresses) {
    const found = hostsFromIngress(ingress, input.filter);
    if (found.length > 0 && ingressNeedsNoHairpin(ingress, proxyIPs)) {
      proxyMode.push({
        ref: refOf(ingress, 'networking.k8s.io/v1', 'Ingress')!,
        hosts: found.flatMap((c) => (typeof c.host === 'string' ? [c.host] : [])),
      });
      continue;
    }
    candidates.push(...found);
  }
  candidates.push(...hostsFromGatewayApi(input.gateways, input.routes, input.filter));
  return {
    ...decideHosts(candidates, input.policy),
    proxyMode,
    classFiltered: classFilteredHosts(input, input.filter),
  };
}
