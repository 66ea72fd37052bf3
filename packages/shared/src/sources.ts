// STUB: owned by the hostname/hosts-file helper; signatures are the contract.
// Pure extraction of candidate hostnames from Kubernetes objects (plain JSON as the API
// returns it: client-node objects or parsed YAML both work).
import type { HostnamePolicy, HostRejectReason } from './hostname.ts';

export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

export type IngressHostSource = 'tls' | 'rules';

export interface SourceFilter {
  /** Which Ingress fields contribute hosts; default both. */
  readonly ingressSources: readonly IngressHostSource[];
  /** Ingress classes to include (spec.ingressClassName or the legacy annotation); empty = all. */
  readonly ingressClasses: readonly string[];
  /** Gateway classes to include (Gateway spec.gatewayClassName); empty = all. */
  readonly gatewayClasses: readonly string[];
}

export interface HostCandidate {
  /** The raw value as found on the object (not yet validated). */
  readonly host: string;
  readonly ref: ObjectRef;
}

export interface HostRejection {
  readonly host: string;
  readonly reason: HostRejectReason;
  readonly message: string;
  readonly ref: ObjectRef;
}

export interface HostDecision {
  /** Valid, allowed, lower-cased, unique, sorted. */
  readonly hosts: readonly string[];
  readonly rejected: readonly HostRejection[];
}

export function hostsFromIngress(ingress: unknown, filter: SourceFilter): HostCandidate[] {
  void ingress;
  void filter;
  throw new Error('not implemented');
}

/** Gateway listener hostnames, and HTTPRoute hostnames attached to a selected Gateway. */
export function hostsFromGatewayApi(
  gateways: readonly unknown[],
  routes: readonly unknown[],
  filter: SourceFilter,
): HostCandidate[] {
  void gateways;
  void routes;
  void filter;
  throw new Error('not implemented');
}

export function decideHosts(
  candidates: readonly HostCandidate[],
  policy: HostnamePolicy,
): HostDecision {
  void candidates;
  void policy;
  throw new Error('not implemented');
}
